"""A PULL_REQUEST job end to end: the real pipeline, fake Claude and fake GitHub over HTTP."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from core.models import JobStatus, OutputMode, RunStatus
from core.services.jobs import retry_runs
from core.settings import Settings
from server.runtime.worker_command import worker_ports
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.github_server import FakeGitHub
from tests.integration.github.publishing import Clone, human_commit
from tests.integration.worker.conftest import RecordingDispatcher, greeting_edit, run_all, submit


@pytest.fixture
def pr_settings(github_settings: Settings, fake_model: FakeAnthropic, fake_github: FakeGitHub) -> Settings:
    for name in ("acme/one", "acme/two"):
        fake_github.add_repo(name, {"app.py": "print('hi')\n"})
    return github_settings.model_copy(
        update={"anthropic_api_key": SecretStr(fake_model.api_key), "anthropic_base_url": fake_model.url}
    )


def test_pull_request_job_opens_one_pr_per_repository_even_when_retried(
    pr_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, fake_github: FakeGitHub
) -> None:
    # GIVEN a pull-request job over two github.com repositories and a model that edits each
    dispatcher = RecordingDispatcher()
    repos = ["acme/one", "https://github.com/acme/two"]
    job = submit(pr_settings, store, repos, dispatcher, output=OutputMode.PULL_REQUEST, title="Say hello")
    fake_model.script(greeting_edit() * 2)
    ports = worker_ports(pr_settings, store)
    # WHEN every run is worked
    runs = run_all(pr_settings, store, job, ports)
    # THEN each run succeeded with its pull request, whose branch holds the change
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * 2, [r.error for r in runs]
    branch = f"cody-batch/{job.id}"
    for run, name in zip(runs, ("acme/one", "acme/two"), strict=True):
        assert run.pull_request is not None
        assert run.pull_request.branch == branch
        assert run.pull_request.url == f"https://github.com/{name}/pull/{run.pull_request.number}"
        assert fake_github.show(name, branch, "app.py") == "print('hello')\n"
    assert sorted((p.repo, p.title) for p in fake_github.pulls) == [(n, "Say hello") for n in ("acme/one", "acme/two")]
    assert store.get_job(job.id).status is JobStatus.SUCCEEDED  # type: ignore[union-attr]
    # WHEN both runs are retried and worked again
    fake_model.script(greeting_edit() * 2)
    retry_runs(store, dispatcher, job.id, [r.id for r in runs])
    again = run_all(pr_settings, store, job, ports)
    # THEN they succeed with the same pull requests: none was opened twice
    assert [r.attempt for r in again] == [2, 2]
    assert [r.pull_request for r in again] == [r.pull_request for r in runs]
    assert len(fake_github.pulls) == 2
    assert len(fake_github.requests_to("POST", "/pulls$")) == 2


def test_an_archived_repository_fails_before_the_model_is_asked(
    pr_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, fake_github: FakeGitHub
) -> None:
    # GIVEN one archived repository in a pull-request job
    fake_github.repos["acme/two"].archived = True
    job = submit(pr_settings, store, ["acme/one", "acme/two"], output=OutputMode.PULL_REQUEST)
    fake_model.script(greeting_edit())
    # WHEN worked
    runs = run_all(pr_settings, store, job, worker_ports(pr_settings, store))
    # THEN its run fails with the reason, and only the other repository used the model
    assert runs[0].status is RunStatus.SUCCEEDED
    assert runs[1].status is RunStatus.FAILED and runs[1].error is not None
    assert runs[1].error.kind == "REPOSITORY_ARCHIVED"
    assert len(fake_model.requests) == 2 and fake_model.remaining == 0
    assert store.get_job(job.id).status is JobStatus.PARTIAL  # type: ignore[union-attr]


def test_patch_job_on_a_public_repository_works_without_a_token(
    pr_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, fake_github: FakeGitHub
) -> None:
    # GIVEN no GITHUB_TOKEN and a PATCH job on a public github.com repository
    anonymous = pr_settings.model_copy(update={"github_token": None})
    job = submit(anonymous, store, ["acme/one"])
    fake_model.script(greeting_edit())
    # WHEN worked / THEN it is cloned anonymously and yields a patch, with nothing pushed or asked of the API
    [run] = run_all(anonymous, store, job, worker_ports(anonymous, store))
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert run.patch is not None and [f.path for f in run.patch.files] == ["app.py"]
    assert fake_github.requests == [] and fake_github.branch_head("acme/one", f"cody-batch/{job.id}") is None


def test_a_run_that_failed_only_at_publishing_is_retried_without_claude(
    pr_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, fake_github: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN a pull-request run whose pull request GitHub would not open (5xx, past the bounded retries)
    dispatcher = RecordingDispatcher()
    job = submit(pr_settings, store, ["acme/one"], dispatcher, output=OutputMode.PULL_REQUEST)  # type: ignore[list-item]
    fake_model.script(greeting_edit())
    fake_github.fail("POST", "/pulls$", 502, "Bad Gateway", times=4)
    ports = worker_ports(pr_settings, store)
    [failed] = run_all(pr_settings, store, job, ports)
    assert failed.status is RunStatus.FAILED and failed.step == "publish", failed.error
    assert failed.patch is not None and fake_github.pulls == []
    base = failed.patch.base_commit
    # AND the default branch moved on since
    human_commit(clone_of, "main", "print('moved on')\n", full_name="acme/one")
    # WHEN the run is retried, with no model turn scripted
    retry_runs(store, dispatcher, job.id, [failed.id])
    [run] = run_all(pr_settings, store, job, ports)
    # THEN the stored patch was published again on its own base, and Claude was not asked again
    assert run.status is RunStatus.SUCCEEDED and run.attempt == 2, run.error
    assert len(fake_model.requests) == 2 and run.usage.cost_usd == 0
    assert run.pull_request is not None and [p.number for p in fake_github.pulls] == [run.pull_request.number]
    branch = run.pull_request.branch
    assert fake_github.show("acme/one", branch, "app.py") == "print('hello')\n"
    assert fake_github.show("acme/one", f"{branch}~1", "app.py") == "print('hi')\n"
    assert base is not None and fake_github.branch_head("acme/one", branch) != base
    assert run.summary == failed.summary and run.validation == failed.validation
    assert run.patch is not None and run.patch.files == failed.patch.files
    assert store.get_artifact(run.patch.artifact_key) == store.get_artifact(failed.patch.artifact_key)
