"""Why git could not push, as the remote said it: permanent refusals apart from transient failures."""

from __future__ import annotations

import re

from core.errors import RunErrorKind
from worker.github.errors import PublishError

MAX_REASON_CHARS = 1_000

# Checked first: answers that no retry can change.
_PERMANENT: tuple[tuple[re.Pattern[str], RunErrorKind], ...] = (
    (re.compile(r"archived", re.I), RunErrorKind.REPOSITORY_ARCHIVED),
    (
        re.compile(r"permission to .* denied|returned error: 403|\b403\b.*forbidden", re.I),
        RunErrorKind.NO_PUSH_PERMISSION,
    ),
    (re.compile(r"stale info|fetch first|non-fast-forward", re.I), RunErrorKind.BRANCH_MODIFIED),
)
# A flaky network or a remote answering 5xx: worth another try.
_TRANSIENT = re.compile(
    r"\b5\d\d\b|timed out|rpc failed|early eof|hung up|could not resolve host|connection (reset|refused)"
    r"|unexpected disconnect|service unavailable",
    re.I,
)


def remote_reason(output: str) -> str:
    """What the remote said about a failed push: its `remote:` lines and git's verdict, on one line."""
    said = []
    for raw in output.splitlines():
        line = raw.strip()
        if line.startswith("remote:"):
            line = line[len("remote:") :].strip()
        elif line.startswith("!"):
            # Porcelain: "!<TAB>HEAD:refs/heads/b<TAB>[remote rejected] (reason)"
            line = line.split("\t")[-1].strip()
        elif not line.startswith(("error:", "fatal:")):
            continue
        if line and line not in said:
            said.append(line)
    reason = "; ".join(said) or "git gave no reason"
    return reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 1] + "…"


def is_transient(reason: str) -> bool:
    """True when a retry may succeed (the remote or the network failed), False for a refusal."""
    if any(pattern.search(reason) for pattern, _ in _PERMANENT):
        return False
    return _TRANSIENT.search(reason) is not None


def push_error(branch: str, full_name: str, reason: str) -> PublishError:
    """The run error for a push the remote refused, keeping the remote's own words."""
    for pattern, kind in _PERMANENT:
        if pattern.search(reason):
            return PublishError(kind, f"GitHub refused the push of {branch} to {full_name}: {reason}")
    return PublishError(RunErrorKind.PUSH_FAILED, f"could not push {branch} to {full_name}: {reason}")
