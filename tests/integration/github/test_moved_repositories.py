"""Pull requests go only to the repository named, as GitHub resolves it: renamed, moved, redirected, named twice."""

from __future__ import annotations

import threading

import pytest
from pydantic import SecretStr

from core.models import Job, OutputMode, RepositoryRun, RunStatus
from core.ports import Change
from core.settings import Settings
from server.runtime.worker_command import worker_ports
from server.runtime.worker_config import github_config
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.github_server import FakeGitHub
from tests.integration.github.publishing import Clone, make_job, publish
from tests.integration.worker.conftest import greeting_edit, run_all, submit
from worker.github.errors import PublishError
from worker.github.gate import check_repository
from worker.github.ownership import claim_branch


def test_a_transferred_repository_gets_no_branch_and_no_pull_request(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN acme/app, allowed, was transferred to other-org/app (GitHub answers the old name with a 301)
    job, run = make_job(store)
    workspace = clone_of("acme/app", {"app.py": "2\n"})
    app.rename("acme/app", "other-org/app")
    # WHEN published / THEN it fails naming both, and nothing reached the repository outside the allowlist
    with pytest.raises(PublishError) as caught:
        publish(github_settings, store, workspace, job, run)
    assert caught.value.kind == "REPOSITORY_MOVED"
    assert "github.com/acme/app" in caught.value.message and "github.com/other-org/app" in caught.value.message
    assert "allowlist does not allow" in caught.value.message
    assert app.branch_head("other-org/app", f"cody-batch/{job.id}") is None and app.pulls == []
    assert app.requests_to("GET", r"^/repositories/\d+$"), "the 301 was followed by PyGithub"


def test_an_answer_naming_another_repository_is_refused_at_the_gate(
    github_settings: Settings, store, fake_github: FakeGitHub
) -> None:
    # GIVEN GitHub answers for acme/alpha with the metadata of other-org/alpha
    fake_github.add_repo("acme/alpha")
    other = fake_github.add_repo("other-org/alpha")
    fake_github.fail("GET", r"^/repos/acme/alpha$", 200, body=fake_github.repo_json(other, True), times=10)
    # WHEN gated / THEN the run is refused before any model call
    with pytest.raises(PublishError) as caught:
        check_repository(github_config(github_settings), store, "github.com/acme/alpha")
    assert caught.value.kind == "REPOSITORY_MOVED" and "github.com/other-org/alpha" in caught.value.message


@pytest.mark.parametrize(
    ("location", "named"),
    [("http://elsewhere.example.com/repos/acme/app", "host elsewhere.example.com"), ("https://x.test/r", "https")],
)
def test_a_redirect_away_from_the_api_is_a_clear_error(
    github_settings: Settings, store, app: FakeGitHub, location: str, named: str
) -> None:
    # GIVEN GitHub answers the repository with a 301 to another host (or scheme)
    app.fail("GET", r"^/repos/acme/app$", 301, headers={"Location": location})
    # WHEN gated / THEN it is refused as moved, not an internal error, and where it pointed is named
    with pytest.raises(PublishError) as caught:
        check_repository(github_config(github_settings), store, "github.com/acme/app")
    assert caught.value.kind == "REPOSITORY_MOVED" and named in caught.value.message


def test_a_renamed_repository_named_twice_never_gets_two_runs_on_one_branch(
    github_settings: Settings, store: SqliteStore, fake_github: FakeGitHub, fake_model: FakeAnthropic
) -> None:
    # GIVEN acme/oldname was renamed to acme/newname, and a job names both
    fake_github.add_repo("acme/oldname", {"app.py": "print('hi')\n"})
    fake_github.rename("acme/oldname", "acme/newname")
    settings = github_settings.model_copy(
        update={"anthropic_api_key": SecretStr("test-key"), "anthropic_base_url": fake_model.url}
    )
    job = submit(settings, store, ["acme/oldname", "acme/newname"], output=OutputMode.PULL_REQUEST)  # type: ignore[list-item]
    fake_model.script(greeting_edit() * 2)
    # WHEN both runs are worked
    old, new = run_all(settings, store, job, worker_ports(settings, store))
    # THEN only the run naming the repository as GitHub knows it published; the other failed before Claude
    assert new.status is RunStatus.SUCCEEDED, new.error
    assert old.status is RunStatus.FAILED and old.error is not None and old.error.kind == "REPOSITORY_MOVED"
    assert "github.com/acme/newname" in old.error.message
    assert len(fake_github.pulls) == 1 and len(fake_model.requests) == 2
    assert new.branch is not None and new.branch.head == fake_github.branch_head("acme/newname", new.branch.name)


def test_two_runs_claiming_one_repository_at_once_never_both_win(store: SqliteStore) -> None:
    # GIVEN a job whose two runs resolve to the same GitHub repository
    job = Job(title="t", prompt="p", model="m", output=OutputMode.PULL_REQUEST)
    runs = [RepositoryRun(job_id=job.id, index=i, location=f"github.com/acme/name{i}") for i in range(2)]
    store.commit(Change(job=job, job_version=None, runs=[(r, None) for r in runs]))
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def claim(run: RepositoryRun) -> None:
        start.wait()
        try:
            claim_branch(store, run, "acme/same", f"cody-batch/{job.id}")
            outcomes.append("claimed")
        except PublishError as err:
            outcomes.append(err.kind)

    # WHEN both claim it at the same moment
    threads = [threading.Thread(target=claim, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN exactly one holds the branch, and the other is refused as a duplicate
    assert sorted(outcomes) == ["DUPLICATE_REPOSITORY", "claimed"]
    stored = store.get_runs([job.id])[job.id]
    assert [r.branch.repository for r in stored if r.branch is not None] == ["acme/same"]
