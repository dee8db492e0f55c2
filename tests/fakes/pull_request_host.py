"""MemoryPullRequestHost: a PullRequestHost that keeps pull requests in memory and records every call.

For the pull-request use cases' unit tests (core/services), which need many quick cases; the
GitHub adapter itself is tested against the fake GitHub server (tests/integration/github).
Its writes change state as GitHub's do: publishing makes a draft open, closing closes, merging
merges, and a write to a pull request it does not hold fails as GitHub's 404 does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import CodyBatchError
from core.models import PullRequestState, PullRequestStatus

_WRITES = {"publish": PullRequestState.OPEN, "close": PullRequestState.CLOSED, "merge": PullRequestState.MERGED}


@dataclass
class Read:
    """One `pull_request_status` call: what was asked and the status the caller said it knew."""

    repository: str
    number: int
    known: PullRequestStatus | None


@dataclass
class MemoryPullRequestHost:
    """Pull requests by (repository, number); `failing` ones raise on every read and write."""

    pulls: dict[tuple[str, int], PullRequestStatus] = field(default_factory=dict)
    failing: dict[tuple[str, int], str] = field(default_factory=dict)
    reads: list[Read] = field(default_factory=list)
    writes: list[tuple[str, str, object]] = field(default_factory=list)  # (action, repository, number or branch)

    def set(self, repository: str, number: int, state: PullRequestState, **fields: object) -> None:
        """GitHub now says `state` (and `fields`) of the pull request."""
        self.pulls[(repository, number)] = PullRequestStatus(state=state, **fields)  # type: ignore[arg-type]

    def pull_request_status(self, repository: str, number: int, known: PullRequestStatus | None) -> PullRequestStatus:
        """The pull request as set, or a CodyBatchError when it is failing or unknown."""
        self.reads.append(Read(repository, number, known))
        return self._get(repository, number)

    def publish(self, repository: str, number: int) -> None:
        self._write("publish", repository, number)

    def comment(self, repository: str, number: int, text: str) -> None:
        self._get(repository, number)
        self.writes.append(("comment", repository, text))

    def close(self, repository: str, number: int) -> None:
        self._write("close", repository, number)

    def merge(self, repository: str, number: int) -> None:
        self._write("merge", repository, number)

    def delete_branch(self, repository: str, branch: str) -> None:
        self.writes.append(("delete_branch", repository, branch))

    def _write(self, action: str, repository: str, number: int) -> None:
        current = self._get(repository, number)
        self.pulls[(repository, number)] = current.model_copy(update={"state": _WRITES[action]})
        self.writes.append((action, repository, number))

    def _get(self, repository: str, number: int) -> PullRequestStatus:
        if (repository, number) in self.failing:
            raise CodyBatchError(self.failing[(repository, number)])
        if (repository, number) not in self.pulls:
            raise CodyBatchError(f"pull request #{number} of {repository} not found (404)")
        return self.pulls[(repository, number)]
