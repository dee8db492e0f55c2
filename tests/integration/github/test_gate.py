"""The repository gate through real PyGithub against the fake GitHub: metadata, cache, refusals."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from core.locations import normalize
from core.settings import Settings
from server.runtime.worker_config import github_config
from tests.fakes.github_server import FakeGitHub
from worker.github.errors import PublishError
from worker.github.gate import check_repository, repository_metadata


def test_metadata_comes_from_github_and_is_cached(github_settings: Settings, store, fake_github: FakeGitHub) -> None:
    # GIVEN a private repository with another default branch
    fake_github.add_repo("acme/app", default_branch="trunk", private=True)
    # WHEN checked twice
    first = check_repository(github_config(github_settings), store, normalize("acme/app"))
    second = check_repository(github_config(github_settings), store, "github.com/acme/app")
    # THEN GitHub's answer is used, and asked for once only
    assert first == second
    assert (first.full_name, first.default_branch, first.visibility) == ("acme/app", "trunk", "private")
    assert first.private and first.can_push and not first.archived
    assert len(fake_github.requests_to("GET", r"^/repos/acme/app$")) == 1
    assert fake_github.requests_to("GET", "/repos/acme/app")[0].headers["Authorization"] == "token test-token"


def test_zero_ttl_disables_the_cache(github_settings: Settings, store, fake_github: FakeGitHub) -> None:
    fake_github.add_repo("acme/app")
    settings = github_settings.model_copy(update={"metadata_ttl": 0})
    for _ in range(2):
        check_repository(github_config(settings), store, "github.com/acme/app")
    assert len(fake_github.requests_to("GET", r"^/repos/acme/app$")) == 2


@pytest.mark.parametrize(
    ("options", "kind", "words"),
    [
        ({"archived": True}, "REPOSITORY_ARCHIVED", "archived"),
        ({"push": False}, "NO_PUSH_PERMISSION", "cannot push"),
    ],
)
def test_repositories_that_cannot_take_a_pull_request_are_refused(
    github_settings: Settings, store, fake_github: FakeGitHub, options: dict, kind: str, words: str
) -> None:
    # GIVEN an archived repository, or one the token cannot push to
    fake_github.add_repo("acme/app", **options)
    # WHEN gated / THEN a PublishError names the reason
    with pytest.raises(PublishError) as caught:
        check_repository(github_config(github_settings), store, "github.com/acme/app")
    assert caught.value.kind == kind
    assert words in caught.value.message and "acme/app" in caught.value.message
    # AND a PATCH job (no push needed) may still use it
    assert (
        check_repository(github_config(github_settings), store, "github.com/acme/app", needs_push=False).full_name
        == "acme/app"
    )


def test_a_cached_refusal_is_checked_again(github_settings: Settings, store, fake_github: FakeGitHub) -> None:
    # GIVEN an archived repository whose refusal is cached
    repo = fake_github.add_repo("acme/app", archived=True)
    with pytest.raises(PublishError):
        check_repository(github_config(github_settings), store, "github.com/acme/app")
    # WHEN it is unarchived and gated again within the TTL
    repo.archived = False
    metadata = check_repository(github_config(github_settings), store, "github.com/acme/app")
    # THEN the fresh answer lets it through, and is what the cache holds now
    assert not metadata.archived
    assert not repository_metadata(github_config(github_settings), store, "github.com/acme/app")[0].archived


def test_unknown_repositories_and_bad_tokens_are_clear_errors(
    github_settings: Settings, store, fake_github: FakeGitHub
) -> None:
    fake_github.add_repo("acme/app")
    with pytest.raises(PublishError) as missing:
        check_repository(github_config(github_settings), store, "github.com/acme/nope")
    assert missing.value.kind == "REPOSITORY_NOT_FOUND"
    wrong = github_settings.model_copy(update={"github_token": SecretStr("ghp_wrong_token")})
    with pytest.raises(PublishError) as refused:
        check_repository(github_config(wrong), store, "github.com/acme/app")
    assert refused.value.kind == "GITHUB_AUTH_FAILED"
    assert "ghp_wrong_token" not in refused.value.message


def test_anonymous_access_reads_public_repositories(github_settings: Settings, store, fake_github: FakeGitHub) -> None:
    # GIVEN no token, a public and a private repository
    fake_github.add_repo("acme/public")
    fake_github.add_repo("acme/secret", private=True)
    anonymous = github_settings.model_copy(update={"github_token": None})
    # WHEN read without pushing / THEN the public one is seen (no permissions known), the private one is not
    metadata = check_repository(github_config(anonymous), store, "github.com/acme/public", needs_push=False)
    assert metadata.can_push is None
    assert "Authorization" not in fake_github.requests[-1].headers
    with pytest.raises(PublishError, match="not found"):
        check_repository(github_config(anonymous), store, "github.com/acme/secret", needs_push=False)


def test_local_locations_are_not_github(github_settings: Settings, store) -> None:
    with pytest.raises(PublishError) as caught:
        check_repository(github_config(github_settings), store, "/srv/repos/app")
    assert caught.value.kind == "NOT_A_GITHUB_REPOSITORY"
