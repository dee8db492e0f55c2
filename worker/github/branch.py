"""The job's branch in a workspace: commit the change as the configured author, push it safely."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from email.utils import parseaddr

from core.errors import RunErrorKind
from worker.git_auth import redact
from worker.git_process import decode
from worker.github.errors import PublishError
from worker.github.push_rejection import is_transient, push_error, remote_reason
from worker.workspace import Workspace

log = logging.getLogger(__name__)

PUSH_ATTEMPTS = 3
PUSH_BACKOFF_SECONDS = (0.0, 0.5, 1.5)
GIT_TIMEOUT_SECONDS = 600
# The git commands that talk to GitHub: the only ones that get the token.
_NETWORK = frozenset({"ls-remote", "fetch", "push"})


def branch_name(job_id: str) -> str:
    """The branch a job pushes to in every repository."""
    return f"cody-batch/{job_id}"


class GitRunner:
    """Runs git in one workspace (hooks, signing and the rest pinned off by the workspace) as the author.

    The token is only in the environment, and only of the calls that reach GitHub.
    """

    def __init__(self, workspace: Workspace, token: str | None, author: str) -> None:
        self.workspace = workspace
        self.token = token
        name, email = parseaddr(author)
        self.author_name = name or "Cody Batch"
        self.author_email = email or "cody-batch@users.noreply.github.com"
        identity = {
            "GIT_AUTHOR_NAME": self.author_name,
            "GIT_AUTHOR_EMAIL": self.author_email,
            "GIT_COMMITTER_NAME": self.author_name,
            "GIT_COMMITTER_EMAIL": self.author_email,
        }
        self.env = identity

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """git `args` in the workspace; PublishError (token redacted) when `check` and it fails."""
        raw = self.workspace.run(
            args,
            env=self.env,
            token=self.token if args[0] in _NETWORK else None,
            input=stdin.encode() if stdin is not None else None,
            timeout=GIT_TIMEOUT_SECONDS,
        )
        done = subprocess.CompletedProcess(raw.args, raw.returncode, decode(raw.stdout), decode(raw.stderr))
        if check and done.returncode != 0:
            raise PublishError(RunErrorKind.GIT_FAILED, f"git {args[0]} failed: {self.last_line(done)}")
        return done

    def last_line(self, done: subprocess.CompletedProcess[str]) -> str:
        lines = [line for line in (done.stderr or done.stdout or "").splitlines() if line.strip()]
        return redact(lines[-1].strip() if lines else f"exit status {done.returncode}", self.token)

    def commit(self, branch: str, message: str) -> str:
        """Put the working tree's changes in one commit on `branch`; returns the commit id."""
        self.run("checkout", "-q", "-B", branch)
        self.run("add", "-A")
        if self.run("diff", "--cached", "--quiet", check=False).returncode == 0:
            raise PublishError(RunErrorKind.NO_CHANGES, "there is nothing to commit in the workspace")
        self.run("commit", "-q", "--no-verify", "-F", "-", stdin=message)
        return self.run("rev-parse", "HEAD").stdout.strip()

    def remote_head(self, url: str, branch: str) -> str | None:
        """The commit `branch` points at on the remote, or None when it does not exist."""
        out = self.run("ls-remote", "--heads", url, f"refs/heads/{branch}").stdout.split()
        return out[0] if out else None

    def push(
        self,
        url: str,
        full_name: str,
        branch: str,
        expected: str | None,
        paced: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> str:
        """Push HEAD to `branch`, replacing only `expected` (the commit this run pushed last); the commit pushed.

        Any other commit at the branch's head is someone else's: BRANCH_MODIFIED. Transient
        failures are tried again; a refusal by the remote is reported at once, in its words.
        """
        head = self.run("rev-parse", "HEAD").stdout.strip()
        reason = ""
        for attempt in range(PUSH_ATTEMPTS):
            time.sleep(PUSH_BACKOFF_SECONDS[attempt])
            found = self.remote_head(url, branch)
            if found == head:  # an earlier try landed though its answer was lost
                return head
            if found is not None and found != expected:
                raise PublishError(
                    RunErrorKind.BRANCH_MODIFIED,
                    f"branch {branch} of {full_name} is at {found[:12]}, which this run did not push; "
                    "someone else changed it: merge or delete it before retrying",
                )
            # The lease makes the push fail, not overwrite, if the branch moved since ls-remote.
            lease = f"--force-with-lease=refs/heads/{branch}:{found or ''}"
            with paced():  # a push creates content: it takes its turn with every other run's
                done = self.run("push", "--porcelain", lease, url, f"HEAD:refs/heads/{branch}", check=False)
            if done.returncode == 0:
                return head
            reason = redact(remote_reason(f"{done.stdout}\n{done.stderr}"), self.token)
            log.warning("push of %s failed (attempt %d): %s", branch, attempt + 1, reason)
            if not is_transient(reason):
                break
        raise push_error(branch, full_name, reason)
