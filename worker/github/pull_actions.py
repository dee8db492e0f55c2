"""Writes to a pull request: ready for review, comment, close, merge, delete its branch; each paced.

Every one is a content-creating request, so each takes its turn in the token's shared pace
(one at a time, `github_write_interval` apart, any backoff GitHub asked for waited out).
Branch protection is GitHub's to enforce: a merge it refuses fails with GitHub's reason.
"""

from __future__ import annotations

from collections.abc import Callable

from github import Github
from github.PullRequest import PullRequest
from github.Repository import Repository

from worker.github.errors import github_errors
from worker.github.pacing import GitHubPace

# Preferred first: a merge commit keeps the change's commit; squash and rebase when only they are allowed.
_METHODS = (("allow_merge_commit", "merge"), ("allow_squash_merge", "squash"), ("allow_rebase_merge", "rebase"))


class GitHubPullRequestWrites:
    """The write half of the GitHub PullRequestHost."""

    client: Github
    pace: GitHubPace | None
    token: str | None

    def publish(self, repository: str, number: int) -> None:
        """Mark a draft ready for review (GitHub offers this only in its GraphQL API)."""
        self._write(
            repository,
            f"mark pull request #{number} ready for review in",
            lambda: self._pull(repository, number).mark_ready_for_review(),
        )

    def comment(self, repository: str, number: int, text: str) -> None:
        """Comment on the pull request's conversation."""
        self._write(
            repository,
            f"comment on pull request #{number} of",
            lambda: self._pull(repository, number).create_issue_comment(text),
        )

    def close(self, repository: str, number: int) -> None:
        """Close the pull request without merging."""
        self._write(
            repository, f"close pull request #{number} of", lambda: self._pull(repository, number).edit(state="closed")
        )

    def merge(self, repository: str, number: int) -> None:
        """Merge with the first method the repository allows (merge commit, squash, rebase)."""

        def merge() -> None:
            repo = self._repo(repository)
            method = next((m for flag, m in _METHODS if getattr(repo, flag) is not False), "merge")
            repo.get_pull(number).merge(merge_method=method)

        self._write(repository, f"merge pull request #{number} of", merge)

    def delete_branch(self, repository: str, branch: str) -> None:
        """Delete the head branch."""

        def delete() -> None:
            self.client.requester.requestJsonAndCheck("DELETE", f"/repos/{repository}/git/refs/heads/{branch}")

        self._write(repository, f"delete branch {branch} of", delete)

    def _repo(self, repository: str) -> Repository:
        return self.client.get_repo(repository)

    def _pull(self, repository: str, number: int) -> PullRequest:
        return self._repo(repository).get_pull(number)

    def _write(self, repository: str, action: str, call: Callable[[], object]) -> None:
        with github_errors(action, repository, self.token):
            if self.pace is None:
                call()
                return
            with self.pace.writing():
                call()
