"""Repository metadata from GitHub (cached), and the gate a pull-request run passes before any work."""

from __future__ import annotations

import logging

from github import Github
from pydantic import BaseModel

from core.locations import Location, parse_location
from core.ports import Store
from core.settings import Settings
from worker.github.client import github_client, github_token
from worker.github.errors import PublishError, github_errors

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
        raise PublishError("NOT_A_GITHUB_REPOSITORY", f"{location} is not a github.com repository")
    return location


def fetch_metadata(settings: Settings, location: Location | str, github: Github | None = None) -> RepoMetadata:
    """Ask GitHub for a repository's metadata (no cache)."""
    location = _github_location(location)
    client = github or github_client(settings)
    with github_errors("read", location.full_name, github_token(settings)):
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
    settings: Settings, store: Store, location: Location | str, *, fresh: bool = False
) -> tuple[RepoMetadata, bool]:
    """Metadata from the store's cache when not expired, else from GitHub; and whether it was cached."""
    location = _github_location(location)
    key = _cache_key(location, settings.github_token is not None)
    cached = None if fresh or settings.metadata_ttl <= 0 else store.cache_get(key)
    if cached is not None:
        return RepoMetadata.model_validate_json(cached), True
    metadata = fetch_metadata(settings, location)
    if settings.metadata_ttl > 0:
        store.cache_put(key, metadata.model_dump_json(), settings.metadata_ttl)
    return metadata, False


def _refusal(metadata: RepoMetadata, needs_push: bool) -> PublishError | None:
    if not needs_push:
        return None
    if metadata.archived:
        return PublishError(
            "REPOSITORY_ARCHIVED",
            f"{metadata.full_name} is archived and read-only on GitHub; unarchive it to receive pull requests",
        )
    if metadata.can_push is False:
        return PublishError(
            "NO_PUSH_PERMISSION",
            f"the GitHub account of GITHUB_TOKEN cannot push to {metadata.full_name}; "
            "give it write access or leave this repository out",
        )
    return None


def check_repository(
    settings: Settings, store: Store, location: Location | str, *, needs_push: bool = True
) -> RepoMetadata:
    """Metadata of a repository a run may use; PublishError when a pull request could never be opened."""
    metadata, cached = repository_metadata(settings, store, location)
    if cached and _refusal(metadata, needs_push) is not None:
        # A cached refusal may be stale (the repository was unarchived since): ask again once.
        metadata, _ = repository_metadata(settings, store, location, fresh=True)
    error = _refusal(metadata, needs_push)
    if error is not None:
        log.info("refusing %s: %s", metadata.full_name, error.kind)
        raise error
    return metadata
