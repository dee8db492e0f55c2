"""A job request validated into a job and its runs: every limit at its edge, every refusal in its words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.errors import InputError
from core.limits import MAX_COST_LIMIT_USD, MAX_TURNS_LIMIT
from core.models import Budget, JobKind, OutputMode, Strategy
from core.services.jobs import (
    MAX_CHECK_COMMAND_BYTES,
    MAX_PROMPT_BYTES,
    MAX_TITLE_CHARS,
    JobRequest,
    build_job,
    check_budget,
    check_repositories,
    create_job,
)
from core.settings import Settings
from store.sqlite import SqliteStore
from tests.fakes.dispatcher import RecordingDispatcher

MakeRepo = Callable[..., Path]


def _refusal(request: JobRequest, settings: Settings) -> tuple[str | None, str]:
    with pytest.raises(InputError) as err:
        build_job(request, settings)
    return err.value.field, err.value.message


@pytest.mark.parametrize(
    ("prompt", "title", "expected"),
    [
        ("  First line  \nsecond", None, "First line"),
        ("x" * 80, None, "x" * 80),
        ("y" * 81 + "\nmore", "  ", "y" * 79 + "…"),
        ("prompt", "  A title  ", "A title"),
        ("prompt", "t" * MAX_TITLE_CHARS, "t" * MAX_TITLE_CHARS),
    ],
)
def test_the_title_is_the_given_one_trimmed_else_the_prompts_first_line_cut_at_80(
    settings: Settings, make_repo: MakeRepo, prompt: str, title: str | None, expected: str
) -> None:
    job, _ = build_job(JobRequest(prompt=prompt, title=title, repositories=[str(make_repo())]), settings)
    assert job.title == expected


def test_the_prompt_is_trimmed_and_may_be_exactly_the_largest_size(settings: Settings, make_repo: MakeRepo) -> None:
    # GIVEN a prompt of exactly the largest size, with spaces around it
    prompt = "é" * (MAX_PROMPT_BYTES // 2)
    job, _ = build_job(JobRequest(prompt=f"  {prompt}\n", repositories=[str(make_repo())]), settings)
    # THEN it is accepted, trimmed
    assert job.prompt == prompt


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"prompt": "é" * (MAX_PROMPT_BYTES // 2) + "x"}, "prompt", "the instruction is over 100 KB"),
        ({"prompt": " \n "}, "prompt", "the instruction is empty"),
        ({"title": "t" * (MAX_TITLE_CHARS + 1)}, "title", "the title is over 200 characters"),
        ({"check_command": "c" * (MAX_CHECK_COMMAND_BYTES + 1)}, "checkCommand", "the check command is too long"),
        (
            {"kind": JobKind.ANALYZE, "output": OutputMode.PULL_REQUEST},
            "output",
            "ANALYZE jobs only report; use output PATCH",
        ),
    ],
)
def test_each_oversized_or_contradictory_field_is_refused_in_its_words(
    settings: Settings, make_repo: MakeRepo, fields: dict[str, object], field: str, message: str
) -> None:
    settings = settings.model_copy(update={"allow_commands": True})
    request = JobRequest.model_validate({"prompt": "p", "repositories": [str(make_repo())], **fields})
    assert _refusal(request, settings) == (field, message)


def test_a_check_command_is_trimmed_kept_up_to_its_largest_size_and_refused_where_commands_are_off(
    settings: Settings, make_repo: MakeRepo
) -> None:
    repo = str(make_repo())
    command = "c" * MAX_CHECK_COMMAND_BYTES
    allowed = settings.model_copy(update={"allow_commands": True})
    job, _ = build_job(JobRequest(prompt="p", repositories=[repo], check_command=f" {command} "), allowed)
    assert job.check_command == command
    blank, _ = build_job(JobRequest(prompt="p", repositories=[repo], check_command="  "), settings)
    assert blank.check_command is None
    assert _refusal(JobRequest(prompt="p", repositories=[repo], check_command="pytest"), settings) == (
        "checkCommand",
        "check commands are disabled on this server (CODY_BATCH_ALLOW_COMMANDS is off)",
    )


def test_the_model_is_the_servers_default_one_it_offers_or_one_it_has_a_price_for(
    settings: Settings, make_repo: MakeRepo
) -> None:
    repo = str(make_repo())
    default, _ = build_job(JobRequest(prompt="p", repositories=[repo]), settings)
    assert default.model == settings.model
    priced = settings.model_copy(update={"prices": {**settings.prices, "claude-priced": {"input": 1.0}}})
    assert (
        build_job(JobRequest(prompt="p", repositories=[repo], model="claude-priced"), priced)[0].model
        == "claude-priced"
    )
    assert _refusal(JobRequest(prompt="p", repositories=[repo], model="gpt-4"), settings) == (
        "model",
        f"unknown model 'gpt-4'; choose one of {', '.join(settings.models)}",
    )


def test_a_job_keeps_what_was_asked_and_gets_one_pending_run_per_repository_in_order(
    settings: Settings, make_repo: MakeRepo
) -> None:
    repos = [str(make_repo("a")), str(make_repo("b"))]
    request = JobRequest(
        prompt="p",
        repositories=repos,
        kind=JobKind.ANALYZE,
        strategy=Strategy.GENERIC,
        budget=Budget(max_turns=7, max_tokens=5_000, max_cost_usd=1.5),
    )
    job, runs = build_job(request, settings)
    assert (job.kind, job.output, job.strategy) == (JobKind.ANALYZE, OutputMode.PATCH, Strategy.GENERIC)
    assert job.budget == Budget(max_turns=7, max_tokens=5_000, max_cost_usd=1.5)
    assert [(r.job_id, r.index, r.location) for r in runs] == [(job.id, 0, repos[0]), (job.id, 1, repos[1])]


def test_pull_requests_need_github_repositories_and_a_token(settings: Settings, make_repo: MakeRepo) -> None:
    github = settings.model_copy(update={"allowed_repos": [*settings.allowed_repos, "github.com/acme/*"]})
    local = str(make_repo())
    request = JobRequest(prompt="p", repositories=["github.com/acme/app", local], output=OutputMode.PULL_REQUEST)
    assert _refusal(request, github) == ("repositories.1", f"pull requests need a github.com repository, not {local}")
    request = JobRequest(prompt="p", repositories=["github.com/acme/app"], output=OutputMode.PULL_REQUEST)
    assert _refusal(request, github) == ("output", "pull requests need GITHUB_TOKEN set on the server")
    with_token = github.model_copy(update={"github_token": SecretStr("t")})
    job, runs = build_job(request, with_token)
    assert job.output is OutputMode.PULL_REQUEST and [r.location for r in runs] == ["github.com/acme/app"]


@pytest.mark.parametrize(
    ("budget", "field", "message"),
    [
        (Budget(max_turns=0), "budget.maxTurns", f"maxTurns must be between 1 and {MAX_TURNS_LIMIT}"),
        (Budget(max_turns=MAX_TURNS_LIMIT + 1), "budget.maxTurns", f"maxTurns must be between 1 and {MAX_TURNS_LIMIT}"),
        (Budget(max_tokens=999), "budget.maxTokens", "maxTokens must be between 1,000 and 100,000,000"),
        (Budget(max_tokens=100_000_001), "budget.maxTokens", "maxTokens must be between 1,000 and 100,000,000"),
        (Budget(max_cost_usd=0), "budget.maxCostUsd", "maxCostUsd must be above 0 and at most 1000"),
        (
            Budget(max_cost_usd=MAX_COST_LIMIT_USD + 0.01),
            "budget.maxCostUsd",
            "maxCostUsd must be above 0 and at most 1000",
        ),
    ],
)
def test_a_budget_limit_out_of_range_is_refused_naming_its_field(budget: Budget, field: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        check_budget(budget)
    assert (err.value.field, err.value.message) == (field, message)


@pytest.mark.parametrize(
    "budget",
    [
        Budget(),
        Budget(max_turns=1, max_tokens=1000, max_cost_usd=0.01),
        Budget(max_turns=MAX_TURNS_LIMIT, max_tokens=100_000_000, max_cost_usd=MAX_COST_LIMIT_USD),
    ],
)
def test_a_budget_at_the_edges_of_its_ranges_is_accepted(budget: Budget) -> None:
    assert check_budget(budget) == budget


def test_repositories_up_to_the_limit_are_accepted_and_problems_are_named_by_position(
    settings: Settings, make_repo: MakeRepo, repos_dir: Path
) -> None:
    # GIVEN as many repositories as a job takes
    repos = [str(make_repo(f"r{i}")) for i in range(settings.max_repositories)]
    # THEN they are accepted, in order
    assert [loc.value for loc in check_repositories(repos, settings)] == repos
    # AND one more is refused with the count
    with pytest.raises(InputError) as err:
        check_repositories([*repos, repos[0]], settings)
    assert (err.value.field, err.value.message) == ("repositories", "6 repositories given; a job takes at most 5")
    # AND none is refused
    with pytest.raises(InputError) as err:
        check_repositories([], settings)
    assert (err.value.field, err.value.message) == ("repositories", "give at least one repository")
    # AND a repeated one is named at its second place, with its first
    with pytest.raises(InputError) as err:
        check_repositories([repos[0], repos[1], repos[1]], settings)
    assert (err.value.field, err.value.message) == ("repositories.2", f"{repos[1]} is listed twice (also at 1)")
    # AND one outside the allowlist names the patterns in force
    with pytest.raises(InputError) as err:
        check_repositories([repos[0], "/etc"], settings)
    assert (err.value.field, err.value.message) == (
        "repositories.1",
        f"/etc is not allowed; allowed patterns: {repos_dir}/*",
    )


def test_a_created_job_is_returned_as_stored_with_its_creation_cursor(
    store: SqliteStore, settings: Settings, make_repo: MakeRepo
) -> None:
    job = create_job(store, RecordingDispatcher(), settings, JobRequest(prompt="p", repositories=[str(make_repo())]))
    stored = store.get_job(job.id)
    assert stored is not None and (job.version, job.last_seq) == (stored.version, stored.last_seq) == (1, 1)


def test_the_job_keeps_the_strategy_it_was_asked_for(settings: Settings, make_repo: MakeRepo) -> None:
    # GIVEN a request for a dependency upgrade, not the generic default
    request = JobRequest(prompt="p", strategy=Strategy.DEPENDENCY_UPGRADE, repositories=[str(make_repo())])
    # WHEN it is built THEN the job says so
    job, _ = build_job(request, settings)
    assert job.strategy is Strategy.DEPENDENCY_UPGRADE
