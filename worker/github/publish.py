"""Publish a run: commit to `cody-batch/<job-id>`, push, and open (or reuse) its pull request."""

from __future__ import annotations

import logging

from github import Github, GithubException
from github.PullRequest import PullRequest as GithubPull
from github.Repository import Repository

from core.errors import RunErrorKind
from core.locations import parse_location
from core.models import Job, OutputMode, Patch, PullRequest, RepositoryRun, Validation
from core.ports import Store
from worker.git_auth import redact
from worker.github.branch import GitRunner, branch_name
from worker.github.client import github_client, github_pace
from worker.github.config import GitHubConfig
from worker.github.errors import PublishError, github_errors, github_message
from worker.github.gate import check_repository
from worker.github.ownership import claim_branch, record_push
from worker.github.pacing import GitHubPace
from worker.github.pr_body import commit_message, pull_request_body, pull_request_title
from worker.workspace import Workspace

__all__ = ["PublishError", "Publisher"]

log = logging.getLogger(__name__)


def _already_exists(err: GithubException) -> bool:
    return err.status == 422 and "already exists" in github_message(err).lower()


def _drafts_unsupported(err: GithubException) -> bool:
    return err.status == 422 and "draft" in github_message(err).lower()


class Publisher:
    """Publishes runs of pull-request jobs to GitHub."""

    def __init__(
        self, config: GitHubConfig, store: Store, github: Github | None = None, pace: GitHubPace | None = None
    ) -> None:
        self.config = config
        self.store = store
        self.token = config.access.token_value()
        self.pace = pace or github_pace(config.access)
        self._github = github

    @property
    def github(self) -> Github:
        if self._github is None:
            self._github = github_client(self.config.access, self.pace)
        return self._github

    def publish(
        self,
        workspace: Workspace,
        job: Job,
        run: RepositoryRun,
        summary: str | None,
        validation: Validation | None,
        patch: Patch,
    ) -> PullRequest:
        """Push the workspace's changes to the job's branch and return its one pull request."""
        location = parse_location(run.location)
        # Fresh, not cached: archived state, permissions and the repository's name may have changed since the gate.
        metadata = check_repository(self.config, self.store, location, fresh=True, pace=self.pace)
        branch = branch_name(job.id)
        claim = claim_branch(self.store, run, metadata.full_name, branch)
        with github_errors("look up pull requests of", location.full_name, self.token):
            self.pace.before_read()
            repo = self.github.get_repo(metadata.full_name)
            # GitHub's own spelling of the owner: the one the user typed may be cased differently.
            owner = metadata.full_name.split("/")[0]
            existing = self._find(repo, owner, branch)
            replaced = None
            if existing is not None and existing.state != "open":
                existing, replaced = self._reopen(existing, branch, run), existing
        git = GitRunner(workspace, self.token, self.config.git_author)
        git.commit(branch, commit_message(job, run))
        url = parse_location(f"github.com/{metadata.full_name}").clone_url
        head = git.push(url, metadata.full_name, branch, claim.head, paced=self.pace.writing)
        record_push(self.store, run, head)
        title = pull_request_title(job)
        replaces = replaced.number if replaced is not None and existing is None else None
        text = pull_request_body(job, run, summary, validation, patch, self.config.public_url, replaces=replaces)
        body = redact(text, self.token)
        with github_errors("open a pull request on", location.full_name, self.token):
            if existing is not None:
                # A retry: the branch now holds the new attempt; refresh the text.
                with self.pace.writing():
                    existing.edit(title=title, body=body)
                pull = existing
            else:
                pull = self._create(repo, owner, branch, metadata.default_branch, title, body, job)
        log.info("pull request #%d for %s on %s", pull.number, job.id, location.full_name)
        return PullRequest(url=pull.html_url, number=pull.number, branch=branch, draft=bool(pull.draft))

    def _reopen(self, pull: GithubPull, branch: str, run: RepositoryRun) -> GithubPull | None:
        """A closed pull request reopened when the retry asked for it; None when GitHub refuses (open a new one)."""
        if pull.merged_at is not None:
            raise PublishError(
                RunErrorKind.PULL_REQUEST_MERGED,
                f"pull request #{pull.number} from {branch} was already merged; start a new job for more changes",
            )
        if not run.reopen_pull_request:
            # Someone closed it on purpose: a retry does not undo that unless asked to.
            raise PublishError(
                RunErrorKind.PULL_REQUEST_CLOSED,
                f"pull request #{pull.number} from {branch} was closed on GitHub and is left closed; "
                "retry with reopenClosedPullRequests to reopen it (or open a new one that links it)",
            )
        try:
            # Before the push: GitHub refuses to reopen a pull request whose head was replaced while closed.
            with self.pace.writing():
                pull.edit(state="open")
        except GithubException as err:
            if err.status != 422:
                raise
            said = redact(github_message(err), self.token)
            log.info("GitHub refused to reopen #%d (%s); opening a new pull request", pull.number, said)
            return None
        return pull

    def _find(self, repo: Repository, owner: str, branch: str) -> GithubPull | None:
        """The newest pull request from the job's branch, in any state."""
        # `head` must be "owner:branch" (a bare branch is ignored and every pull request listed);
        # the ref is checked too, so a filter GitHub ignored can never pick another pull request.
        listed = repo.get_pulls(state="all", head=f"{owner}:{branch}")
        pulls = [pull for pull in listed if pull.head.ref == branch]
        open_pulls = [p for p in pulls if p.state == "open"]
        candidates = open_pulls or pulls
        return candidates[0] if candidates else None

    def _create(
        self, repo: Repository, owner: str, branch: str, base: str, title: str, body: str, job: Job
    ) -> GithubPull:
        draft = job.output is OutputMode.DRAFT_PULL_REQUEST
        try:
            with self.pace.writing():
                return repo.create_pull(base=base, head=branch, title=title, body=body, draft=draft)
        except GithubException as err:
            if _already_exists(err):
                # Opened by a concurrent or earlier attempt between our lookup and now.
                found = self._find(repo, owner, branch)
                if found is not None and found.state == "open":
                    return found
            if draft and _drafts_unsupported(err):
                log.info("%s does not support draft pull requests; opening a ready one", repo.full_name)
                with self.pace.writing():
                    return repo.create_pull(base=base, head=branch, title=title, body=body, draft=False)
            raise
