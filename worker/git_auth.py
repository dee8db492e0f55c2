"""How git authenticates to github.com: a credential helper that reads the token from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from worker.workspace import with_git_config

TOKEN_VARIABLE = "CODY_BATCH_GIT_TOKEN"
GITHUB_URL = "https://github.com"

# git runs a "!" helper through the shell, which expands the variable only when git asks:
# the token is then in no argv, no URL and no config file, only in this environment.
CREDENTIAL_HELPER = (
    '!f() { test "$1" = get || return 0; echo username=x-access-token; echo "password=$' + TOKEN_VARIABLE + '"; }; f'
)

# Secrets git never needs, and prompts that could hang a worker or leak to another program.
_DROPPED = ("GITHUB_TOKEN", "GH_TOKEN", "ANTHROPIC_API_KEY", "GIT_ASKPASS", "SSH_ASKPASS", TOKEN_VARIABLE)


def git_env(token: str | None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The full environment for git (from `base`, default os.environ) that authenticates to github.com."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _DROPPED}
    env["GIT_TERMINAL_PROMPT"] = "0"
    # An empty helper forgets any from the user's config; an empty askPass disables prompting.
    config = {"credential.helper": "", "core.askPass": ""}
    if token:
        env[TOKEN_VARIABLE] = token
        config[f"credential.{GITHUB_URL}.helper"] = CREDENTIAL_HELPER
    return with_git_config(env, config)


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every given secret replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
