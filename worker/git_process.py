"""Every git process the worker starts: an explicit minimal environment and a pinned configuration.

A repository's content and the commands run on it are hostile, and a command can write the
workspace's git directory and any file of the user's git configuration. So no worker git call
reads configuration a command could have written (system and global files are off; the
workspace guards its own), none inherits the worker's environment (GitPython would merge
`os.environ`, keys included, into every call, hence plain subprocess), and the keys that make
git run programs are pinned on the command line, where they beat every configuration file.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

# What git needs from the worker's environment: the binary, the locale, and how the operator
# reaches the network (proxies, CA bundles). Nothing else, in particular no key or token.
PASSED_THROUGH = (
    "PATH",
    "TZ",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "GIT_SSL_CAINFO",
    "GIT_SSL_CAPATH",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)

# No system or global config file, no home (~/.gitconfig, ~/.config/git/*, ~/.netrc are all
# writable by a command), no prompt, stable messages (errors are parsed and shown to users).
FIXED_ENVIRONMENT = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_ATTR_NOSYSTEM": "1",
    "HOME": os.devnull,
    "XDG_CONFIG_HOME": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "LC_ALL": "C",
    "LANGUAGE": "C",
}

# Every key that makes git start a program, pinned off. `-c` is read after every config file,
# includes too, so a value planted in the repository's config cannot override these.
# (Filter, textconv and diff drivers are named by .gitattributes and defined only in config,
# which the workspace keeps to what git itself wrote at the clone; diffs also pass --no-ext-diff.)
PINNED_CONFIG = {
    "core.fsmonitor": "false",
    "core.hooksPath": os.devnull,
    "core.pager": "cat",
    "core.editor": "false",
    "sequence.editor": "false",
    "core.sshCommand": "false",
    "core.attributesFile": os.devnull,
    "core.excludesFile": os.devnull,
    "submodule.recurse": "false",
    "commit.gpgSign": "false",
    "tag.gpgSign": "false",
    "gpg.program": "false",
    # Only https (GitHub) and local paths; never ssh, git://, or ext:: (which runs a command).
    "protocol.allow": "never",
    "protocol.https.allow": "always",
    "protocol.file.allow": "always",
    "advice.detachedHead": "false",
}

# Credentials: an empty helper forgets any helper from elsewhere, an empty askPass never prompts.
# These go through the environment (read before `-c`), so the token's helper can follow them.
NO_CREDENTIALS = {"credential.helper": "", "core.askPass": ""}

# Of the operator's global config, only URL rewrites are honoured (a mirror, or tests pointing
# github.com at local repositories): they choose where git connects, never what it runs.
_REWRITE_KEYS = r"^url\..*\.(insteadof|pushinsteadof)$"
_GLOBAL_CONFIG_LOCATION = ("PATH", "HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL")


class GitError(Exception):
    """A git command failed; `stderr` holds git's own words."""

    def __init__(self, args: Sequence[str], status: int, stderr: str) -> None:
        self.status = status
        self.stderr = stderr
        detail = stderr.strip().splitlines()
        super().__init__(f"git {args[0] if args else ''} failed ({status}): {detail[-1] if detail else ''}")


def with_git_config(env: Mapping[str, str], config: Mapping[str, str]) -> dict[str, str]:
    """`env` plus `config` as GIT_CONFIG_KEY_n/VALUE_n entries, appended to any already there."""
    out = dict(env)
    count = int(out.get("GIT_CONFIG_COUNT", "0") or 0)
    for key, value in config.items():
        out[f"GIT_CONFIG_KEY_{count}"] = key
        out[f"GIT_CONFIG_VALUE_{count}"] = value
        count += 1
    out["GIT_CONFIG_COUNT"] = str(count)
    return out


def pinned_arguments() -> list[str]:
    """`-c key=value` for every pinned key, to put right after `git`."""
    return [part for key, value in PINNED_CONFIG.items() for part in ("-c", f"{key}={value}")]


def operator_rewrites() -> list[tuple[str, str]]:
    """The `url.<base>.insteadOf`/`pushInsteadOf` entries of the operator's global git config.

    Read without includes, from a directory outside any repository, with only the variables
    that say where that file is (no key reaches this git either).
    """
    located = {name: os.environ[name] for name in _GLOBAL_CONFIG_LOCATION if name in os.environ}
    done = subprocess.run(
        ["git", "config", "--global", "--no-includes", "-z", "--get-regexp", _REWRITE_KEYS],
        cwd="/",
        env={**located, "GIT_CONFIG_NOSYSTEM": "1"},
        capture_output=True,
        check=False,
    )
    entries = []
    for item in done.stdout.decode("utf-8", "surrogateescape").split("\0"):
        key, _, value = item.partition("\n")
        if key:
            entries.append((key, value))
    return entries


def base_environment(rewrites: Sequence[tuple[str, str]] = ()) -> dict[str, str]:
    """The whole environment of a worker git call without credentials."""
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update(FIXED_ENVIRONMENT)
    env = with_git_config(env, NO_CREDENTIALS)
    for key, value in rewrites:
        env = with_git_config(env, {key: value})
    return env


def run_git(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    input: bytes | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run `git <pinned config> args` with exactly `env`; the result whatever the exit status."""
    return subprocess.run(
        ["git", *pinned_arguments(), *args],
        cwd=cwd,
        env=dict(env),
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def read_git(args: Sequence[str], *, cwd: Path, env: Mapping[str, str], limit: int) -> tuple[int, bytes, str]:
    """Like `run_git` for output that may be huge: (status, stdout, stderr), stdout cut after `limit` + 1 bytes.

    Past the limit git is killed, so a diff of gigabytes a command wrote never fills the worker's memory.
    """
    with tempfile.TemporaryFile() as errors:
        with subprocess.Popen(
            ["git", *pinned_arguments(), *args],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
        ) as process:
            assert process.stdout is not None
            data = process.stdout.read(limit + 1)
            if len(data) > limit:
                process.kill()
            status = process.wait()
        errors.seek(0)
        return status, data, decode(errors.read())


def decode(data: bytes) -> str:
    """git output as text; bytes that are not UTF-8 (odd file names) survive a round trip to paths."""
    return data.decode("utf-8", "surrogateescape")
