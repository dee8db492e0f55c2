"""Without GITHUB_TOKEN: patch jobs on github.com still validate; pull-request jobs are refused at creation."""

from __future__ import annotations

import pytest

from core.errors import InputError
from core.models import OutputMode
from core.services.jobs import JobRequest, build_job
from core.settings import Settings


@pytest.fixture
def github_allowed(settings: Settings) -> Settings:
    return settings.model_copy(update={"allowed_repos": ["github.com/acme/*"]})


def test_patch_jobs_need_no_token(github_allowed: Settings) -> None:
    job, runs = build_job(JobRequest(prompt="Fix it", repositories=["acme/app"]), github_allowed)
    assert job.output is OutputMode.PATCH and [r.location for r in runs] == ["github.com/acme/app"]


@pytest.mark.parametrize("output", [OutputMode.PULL_REQUEST, OutputMode.DRAFT_PULL_REQUEST])
def test_pull_request_jobs_need_a_token(github_allowed: Settings, output: OutputMode) -> None:
    with pytest.raises(InputError) as caught:
        build_job(JobRequest(prompt="Fix it", repositories=["acme/app"], output=output), github_allowed)
    assert caught.value.field == "output" and "GITHUB_TOKEN" in caught.value.message


def test_pull_requests_need_github_locations(settings: Settings, make_repo) -> None:
    with_token = settings.model_copy(update={"github_token": "t"})
    request = JobRequest(prompt="Fix it", repositories=[str(make_repo("local"))], output=OutputMode.PULL_REQUEST)
    with pytest.raises(InputError) as caught:
        build_job(request, with_token)
    assert caught.value.field == "repositories.0" and "github.com" in caught.value.message


def test_disallowed_github_repositories_are_refused_before_a_job_exists(github_allowed: Settings) -> None:
    with pytest.raises(InputError) as caught:
        build_job(JobRequest(prompt="Fix it", repositories=["acme/app", "evil/app"]), github_allowed)
    assert caught.value.field == "repositories.1" and "not allowed" in caught.value.message
