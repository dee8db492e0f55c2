"""How git authenticates to github.com: a credential helper that reads the token from the environment."""

from __future__ import annotations

from worker.git_process import with_git_config

TOKEN_VARIABLE = "CODY_BATCH_GIT_TOKEN"
GITHUB_URL = "https://github.com"

# git runs a "!" helper through the shell, which expands the variable only when git asks:
# the token is then in no argv, no URL and no config file, only in this environment.
CREDENTIAL_HELPER = (
    '!f() { test "$1" = get || return 0; echo username=x-access-token; echo "password=$' + TOKEN_VARIABLE + '"; }; f'
)


def with_credentials(env: dict[str, str], token: str | None) -> dict[str, str]:
    """`env` (a worker git environment) able to authenticate to github.com with `token`.

    Only network calls (the clone, and the fetch and push of a publish) get it: local calls
    never see the token. The helper comes after the environment's "no helper" entry, so it is
    the only one.
    """
    if not token:
        return env
    return with_git_config({**env, TOKEN_VARIABLE: token}, {f"credential.{GITHUB_URL}.helper": CREDENTIAL_HELPER})


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every given secret replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
