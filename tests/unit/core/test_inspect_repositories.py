"""What createJob would say about each repository reference, one answer per reference."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.locations import Location
from core.services.jobs import JobRequest, RepositoryCheck, create_job, inspect_repositories
from core.services.runs import find_run
from core.settings import Settings
from store.sqlite import SqliteStore
from tests.fakes.dispatcher import RecordingDispatcher


def test_each_reference_gets_its_location_verdict_and_problem(
    settings: Settings, repos_dir: Path, make_repo: Callable[..., Path]
) -> None:
    # GIVEN an allowlist of the repos folder and one GitHub owner, a repository, and a plain folder
    settings = settings.model_copy(update={"allowed_repos": [f"{repos_dir}/*", "github.com/acme/*"]})
    repo = make_repo("app")
    (repos_dir / "plain").mkdir()
    refs = [
        "evil/app",
        "https://user:pw@github.com/acme/app",
        str(repo),
        "./app",
        str(repos_dir / "plain"),
        "acme/tool",
    ]
    # WHEN inspected (relative paths against the repos folder)
    checks = inspect_repositories(refs, settings, base=repos_dir)
    # THEN each is answered on its own, as createJob would refuse or accept it
    assert checks == [
        RepositoryCheck(
            "evil/app",
            Location("github.com/evil/app", "evil", "app"),
            False,
            f"github.com/evil/app is not allowed; allowed patterns: {repos_dir}/*, github.com/acme/*",
        ),
        RepositoryCheck(
            "https://user:pw@github.com/acme/app",
            None,
            False,
            "repository references may not carry credentials; set GITHUB_TOKEN on the server instead",
        ),
        RepositoryCheck(str(repo), Location(str(repo)), True, None),
        RepositoryCheck("./app", Location(str(repo)), True, f"{repo} is listed twice (also at 2)"),
        RepositoryCheck(
            str(repos_dir / "plain"),
            Location(str(repos_dir / "plain")),
            True,
            f"{repos_dir / 'plain'} is not a git repository",
        ),
        RepositoryCheck("acme/tool", Location("github.com/acme/tool", "acme", "tool"), True, None),
    ]


def test_a_reference_refused_before_is_not_counted_as_seen(settings: Settings, make_repo: Callable[..., Path]) -> None:
    # GIVEN the same allowed GitHub repository twice, after a refused one
    settings = settings.model_copy(update={"allowed_repos": ["github.com/acme/*"]})
    checks = inspect_repositories(["acme/app/x", "acme/app", "Acme/App"], settings)
    # THEN the duplicate names the first good one
    assert [c.problem for c in checks][1:] == [None, "github.com/acme/app is listed twice (also at 1)"]


def test_find_run_by_index(store: SqliteStore, settings: Settings, make_repo: Callable[..., Path]) -> None:
    job = create_job(
        store,
        RecordingDispatcher(),
        settings,
        JobRequest(prompt="x", repositories=[str(make_repo("a")), str(make_repo("b"))]),
    )
    runs = store.get_runs([job.id])[job.id]
    assert find_run(store, job.id, 1) == runs[1] and find_run(store, job.id, 0) == runs[0]
    assert find_run(store, job.id, 2) is None and find_run(store, "nope", 0) is None
