"""Repository metadata from GitHub (cached), and the gate a pull-request run passes before any work."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from github import Github
from pydantic import BaseModel

from core.errors import RunErrorKind
from core.locations import GITHUB_HOST, Location, is_allowed, parse_location
from core.models import RepositoryRun
from core.ports import Store
from worker.github.branch import branch_name
from worker.github.client import github_client, github_pace
from worker.github.config import GitHubAccess, GitHubConfig
from worker.github.errors import PublishError, github_errors
from worker.github.ownership import claim_branch
from worker.github.pacing import GitHubPace

log = logging.getLogger(__name__)

CACHE_PREFIX = "github:repo:"


class RepoMetadata(BaseModel):
    """What Cody Batch needs to know about a GitHub repository."""

    full_name: str
    default_branch: str
    private: bool
    visibility: str
    archived: bool
    can_push: bool | None  # None when GitHub did not say (anonymous access)
    html_url: str


def _cache_key(location: Location, authenticated: bool) -> str:
    # Permissions depend on who asks, so anonymous and token answers are kept apart.
    return f"{CACHE_PREFIX}{'token' if authenticated else 'anonymous'}:{location.full_name}"


def _github_location(location: Location | str) -> Location:
    location = parse_location(location) if isinstance(location, str) else location
    if not location.is_github:
        raise PublishError(RunErrorKind.NOT_A_GITHUB_REPOSITORY, f"{location} is not a github.com repository")
    return location


def fetch_metadata(
    access: GitHubAccess, location: Location | str, github: Github | None = None, pace: GitHubPace | None = None
) -> RepoMetadata:
    """Ask GitHub for a repository's metadata (no cache), after any backoff window of the token."""
    location = _github_location(location)
    if pace is not None:
        pace.before_read()
    client = github or github_client(access, pace)
    with github_errors("read", location.full_name, access.token_value()):
        repo = client.get_repo(location.full_name)
        permissions = repo.raw_data.get("permissions")
        return RepoMetadata(
            full_name=repo.full_name,
            default_branch=repo.default_branch,
            private=repo.private,
            visibility=repo.raw_data.get("visibility") or ("private" if repo.private else "public"),
            archived=repo.archived,
            can_push=bool(permissions.get("push")) if isinstance(permissions, dict) else None,
            html_url=repo.html_url,
        )


def repository_metadata(
    config: GitHubConfig, store: Store, location: Location | str, *, fresh: bool = False, pace: GitHubPace | None = None
) -> tuple[RepoMetadata, bool]:
    """Metadata from the store's cache when not expired, else from GitHub; and whether it was cached."""
    location = _github_location(location)
    key = _cache_key(location, config.access.token is not None)
    cached = None if fresh or config.metadata_ttl <= 0 else store.cache_get(key)
    if cached is not None:
        return RepoMetadata.model_validate_json(cached), True
    metadata = fetch_metadata(config.access, location, pace=pace)
    if config.metadata_ttl > 0:
        store.cache_put(key, metadata.model_dump_json(), config.metadata_ttl)
    return metadata, False


def _refusal(metadata: RepoMetadata, needs_push: bool) -> PublishError | None:
    if not needs_push:
        return None
    if metadata.archived:
        return PublishError(
            RunErrorKind.REPOSITORY_ARCHIVED,
            f"{metadata.full_name} is archived and read-only on GitHub; unarchive it to receive pull requests",
        )
    if metadata.can_push is False:
        return PublishError(
            RunErrorKind.NO_PUSH_PERMISSION,
            f"the GitHub account of GITHUB_TOKEN cannot push to {metadata.full_name}; "
            "give it write access or leave this repository out",
        )
    return None


def check_resolved(allowlist: Sequence[str], location: Location, metadata: RepoMetadata) -> None:
    """PublishError REPOSITORY_MOVED unless GitHub's name of the repository is the location given, allowed.

    GitHub answers for a renamed or transferred repository under its new name (PyGithub follows
    the 301); pushing there would publish to a repository nobody allowed.
    """
    resolved = f"{GITHUB_HOST}/{metadata.full_name}".lower()
    allowed = is_allowed(resolved, allowlist)
    if resolved == location.value.lower() and allowed:
        return
    where = "" if allowed else ", which the allowlist does not allow"
    raise PublishError(
        RunErrorKind.REPOSITORY_MOVED,
        f"{location} is {resolved} on GitHub (renamed or transferred{where}); nothing is published to another "
        f"repository than the one named: start a new job naming {resolved} if it is meant",
    )


def check_repository(
    config: GitHubConfig,
    store: Store,
    location: Location | str,
    *,
    needs_push: bool = True,
    fresh: bool = False,
    pace: GitHubPace | None = None,
) -> RepoMetadata:
    """Metadata of a repository a run may use; PublishError when a pull request could never be opened there.

    `fresh` asks GitHub rather than the cache (right before publishing: archived state and
    permissions may have changed since the gate).
    """
    location = _github_location(location)
    metadata, cached = repository_metadata(config, store, location, fresh=fresh, pace=pace)
    if cached and _refusal(metadata, needs_push) is not None:
        # A cached refusal may be stale (the repository was unarchived since): ask again once.
        metadata, _ = repository_metadata(config, store, location, fresh=True, pace=pace)
    check_resolved(config.allowlist, location, metadata)
    error = _refusal(metadata, needs_push)
    if error is not None:
        log.info("refusing %s: %s", metadata.full_name, error.kind)
        raise error
    return metadata


def gate_run(config: GitHubConfig, store: Store, run: RepositoryRun, pace: GitHubPace | None = None) -> RepoMetadata:
    """The gate of a pull-request run: the repository can take a pull request, and no other run of the job has it."""
    metadata = check_repository(config, store, run.location, pace=pace or github_pace(config.access))
    claim_branch(store, run, metadata.full_name, branch_name(run.job_id))
    return metadata
