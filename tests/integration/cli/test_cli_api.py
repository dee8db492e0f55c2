"""The CLI against a real API server: submit, --wait, jobs, show, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.errors import RunErrorKind
from core.models import CommandIsolation, Message, Patch, PatchFile, RunStatus, Thread, Usage
from core.services.progress import RunProgress
from core.services.recovery import resume_run
from server.cli.main import app
from tests.integration.cli.conftest import Api, fail, succeed

runner = CliRunner()
MakeRepo = Callable[..., Path]


def cli(api: Api, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--url", api.url])
    return result.exit_code, result.stdout, result.stderr


def test_submit_with_a_disallowed_repository_exits_2_and_creates_nothing(api: Api, tmp_path: Path) -> None:
    # GIVEN a git repository outside the allowlist
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / ".git").mkdir()
    # WHEN it is submitted
    code, _, err = cli(api, "submit", "add type hints", str(outside))
    # THEN the server's message and field are shown, the exit code is 2, and no job exists
    assert code == 2
    assert "not allowed" in err.lower() or "allowlist" in err.lower()
    assert "repositories.0" in err
    assert api.store.list_jobs(10).jobs == []
    assert api.dispatcher.dispatched == []


def test_submit_says_when_the_server_replays_a_demo_session(api: Api, make_repo: MakeRepo) -> None:
    # GIVEN an allowed repository on a normal server
    repo = make_repo("plain")
    code, _, err = cli(api, "submit", "add type hints", str(repo))
    assert code == 0 and "demo mode" not in err
    # WHEN the same server runs in demo mode
    api.settings.demo = True
    code, _, err = cli(api, "submit", "add type hints", str(repo))
    # THEN the CLI says plainly that the model is a recording
    assert code == 0
    assert "demo mode" in err and "a recorded demo session, not Claude" in err


def test_submit_json_prints_the_created_job(api: Api, make_repo: MakeRepo) -> None:
    # GIVEN an allowed repository
    repo = make_repo("widgets")
    # WHEN a job is submitted with --json and options
    options = [
        "--title",
        "Hints",
        "--kind",
        "analyze",
        "--strategy",
        "refactor",
        "--max-turns",
        "7",
        "--max-cost-usd",
        "0.5",
    ]
    code, out, _ = cli(api, "submit", "add type hints", str(repo), "--json", *options)
    # THEN stdout is the job as JSON, stored and dispatched as asked
    assert code == 0
    job = json.loads(out)
    assert job["title"] == "Hints"
    assert job["kind"] == "ANALYZE"
    assert job["strategy"] == "REFACTOR"
    stored = api.store.get_job(job["id"])
    assert (stored.budget.max_turns, stored.budget.max_cost_usd) == (7, 0.5)
    assert [r["location"] for r in job["repositories"]] == [str(repo)]
    assert api.dispatcher.dispatched == [(job["id"], [0])]


def test_submit_resolves_relative_paths_before_sending(
    api: Api, make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a repository named relative to the working directory
    repo = make_repo("relative-one")
    monkeypatch.chdir(repo.parent)
    # WHEN it is submitted as ./relative-one
    code, out, _ = cli(api, "submit", "fix it", "./relative-one", "--json")
    # THEN the job's location is the absolute real path
    assert code == 0
    assert json.loads(out)["repositories"][0]["location"] == str(repo)


def test_submit_wait_exits_0_when_the_job_succeeds(api: Api, make_repo: MakeRepo) -> None:
    # GIVEN workers that take each run to SUCCEEDED
    repos = [str(make_repo("a")), str(make_repo("b"))]
    # WHEN a job is submitted with --wait
    code, out, _ = cli(api, "submit", "add type hints", *repos, "--wait")
    # THEN the CLI follows it to the end, shows both runs succeeded and exits 0
    assert code == 0, out
    assert out.count("SUCCEEDED") >= 2
    assert "details: cody-batch show" in out
    assert all(repo in out for repo in repos)


def test_submit_wait_exits_1_when_the_job_fails(api: Api, make_repo: MakeRepo) -> None:
    # GIVEN workers whose runs fail
    api.dispatcher.script = fail
    # WHEN a job is submitted with --wait
    code, out, _ = cli(api, "submit", "add type hints", str(make_repo()), "--wait")
    # THEN the failure shows and the exit code is 1
    assert code == 1
    assert "FAILED" in out


def test_submit_wait_json_prints_the_final_job(api: Api, make_repo: MakeRepo) -> None:
    # GIVEN succeeding workers WHEN a job is submitted with --wait --json
    code, out, _ = cli(api, "submit", "add type hints", str(make_repo()), "--wait", "--json")
    # THEN stdout is only the final job, finished
    assert code == 0
    job = json.loads(out)
    assert job["status"] == "SUCCEEDED"
    assert job["repositories"][0]["summary"] == "Added type hints to greet()."


def test_jobs_lists_recent_jobs_and_filters_by_status(api: Api, make_repo: MakeRepo) -> None:
    # GIVEN one failed job and one succeeded job
    api.dispatcher.script = fail
    _, failed, _ = cli(api, "submit", "first", str(make_repo("x")), "--wait", "--json", "--title", "Failing one")
    api.dispatcher.script = succeed
    _, done, _ = cli(api, "submit", "second", str(make_repo("y")), "--wait", "--json", "--title", "Passing one")
    # WHEN jobs are listed
    code, out, _ = cli(api, "jobs")
    # THEN both show with their ids and titles
    assert code == 0
    assert json.loads(failed)["id"] in out and json.loads(done)["id"] in out
    assert "Failing one" in out and "Passing one" in out
    # AND a status filter keeps only matching jobs
    code, out, _ = cli(api, "jobs", "--status", "failed", "--json")
    assert [job["title"] for job in json.loads(out)] == ["Failing one"]


def test_show_prints_runs_with_error_summary_patch_and_diff(api: Api, make_repo: MakeRepo) -> None:
    # GIVEN a job whose first run failed and whose second produced a patch
    diff = "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-print('hi')\n+print('hello')\n"

    def script(progress: RunProgress) -> None:
        run = progress.run()
        if run.index == 0:
            fail(progress)
            return
        key = f"patches/{run.id}/{run.attempt}.diff"
        progress.store.put_artifact(key, diff.encode())
        patch = Patch(
            artifact_key=key,
            files=[PatchFile(path="app.py", change="MODIFIED", additions=1, deletions=1)],
            additions=1,
            deletions=1,
        )
        progress.advance(RunStatus.CLONING)
        progress.advance(RunStatus.SUCCEEDED, summary="Friendlier greeting.", patch=patch)

    api.dispatcher.script = script
    _, created, _ = cli(api, "submit", "greet", str(make_repo("p")), str(make_repo("q")), "--wait", "--json")
    job_id = json.loads(created)["id"]
    # WHEN it is shown with --diff
    code, out, _ = cli(api, "show", job_id, "--diff")
    # THEN the detail has the status, error, summary, patch stats and the diff itself
    assert code == 0
    assert "PARTIAL" in out
    assert "REFUSAL" in out and "the model declined the change" in out
    assert "Friendlier greeting." in out
    assert "1 file, +1 -1" in out
    assert f"{api.url.removesuffix('/graphql')}/jobs/{job_id}/runs/" in out
    assert diff in out
    # AND --json carries the same job
    code, out, _ = cli(api, "show", job_id, "--json")
    assert json.loads(out)["repositories"][1]["patch"]["filesChanged"] == 1


def test_show_prints_when_a_run_was_resumed_and_from_which_turn(api: Api, make_repo: MakeRepo) -> None:
    # GIVEN a run whose worker died in its clone, resumed, then done
    def script(progress: RunProgress) -> None:
        run = progress.run()
        progress.advance(RunStatus.CLONING)
        assert resume_run(progress.store, run.id, run.attempt, 2, "the worker process was killed by SIGKILL")
        progress = RunProgress(progress.store, run.id)
        progress.advance(RunStatus.CLONING)
        progress.advance(RunStatus.NO_CHANGES)

    api.dispatcher.script = script
    _, created, _ = cli(api, "submit", "greet", str(make_repo("p")), "--wait", "--json")
    # WHEN the job is shown
    code, out, _ = cli(api, "show", json.loads(created)["id"])
    # THEN its run says it was resumed, from which turn and why
    assert code == 0
    assert "NO_CHANGES" in out
    assert "resumed from turn 0 at 20" in out
    assert "the worker process was killed by SIGKILL" in out


def test_show_says_how_each_runs_commands_ran(api: Api, make_repo: MakeRepo) -> None:
    # GIVEN a job whose first run's commands ran isolated, whose second ran without filesystem isolation,
    # and whose third ran none
    outcomes = [
        CommandIsolation(filesystem=True, network=True),
        CommandIsolation(filesystem=False, network=True, reason="bubblewrap: Operation not permitted"),
        None,
    ]

    def script(progress: RunProgress) -> None:
        run = progress.run()
        progress.advance(RunStatus.CLONING)
        progress.advance(RunStatus.RUNNING_AGENT, step="agent", command_isolation=outcomes[run.index])
        progress.advance(RunStatus.NO_CHANGES)

    api.dispatcher.script = script
    repos = [str(make_repo(name)) for name in ("p", "q", "r")]
    _, created, _ = cli(api, "submit", "greet", *repos, "--wait", "--json")
    # WHEN the job is shown
    code, out, _ = cli(api, "show", json.loads(created)["id"])
    # THEN the first says its commands ran isolated, the second warns with bubblewrap's reason, the third is silent
    assert code == 0
    assert out.count("commands ran") == 2
    assert "commands ran isolated (filesystem and network)" in out
    assert "commands ran without filesystem isolation: bubblewrap: Operation not permitted" in out


def test_show_of_an_unknown_job_is_one_line_and_exit_1(api: Api) -> None:
    # GIVEN no such job WHEN shown THEN one clear line and exit 1
    code, _, err = cli(api, "show", "01NOSUCHJOB")
    assert code == 1
    assert "no job with id 01NOSUCHJOB" in err


def _stopped_then_done(kind: RunErrorKind, message: str, cost_usd: float = 0.0) -> Callable[[RunProgress], None]:
    """A worker whose run a limit (`kind`) stops after one turn costing `cost_usd`, and succeeds once continued."""

    def work(progress: RunProgress) -> None:
        run = progress.run()
        progress.advance(RunStatus.RUNNING_AGENT)
        if run.resumptions:
            progress.advance(RunStatus.SUCCEEDED)
            return
        thread = Thread(run_id=run.id, model="claude-test")
        greet = [{"type": "text", "text": "greet"}]
        thread.messages = [
            Message(index=0, role="user", content=greet, usage=Usage(cost_usd=cost_usd)),
            Message(index=1, role="assistant", content=[{"type": "text", "text": "hello"}], stop_reason="end_turn"),
        ]
        progress.save_thread(thread)
        progress.fail(kind, message)

    return work


_turn_limited_then_done = _stopped_then_done(RunErrorKind.TURN_LIMIT, "Claude used its 1 turn without finishing.")


def test_a_turn_limited_run_is_continued_from_the_command_line(api: Api, make_repo: MakeRepo) -> None:
    # GIVEN a job whose run stopped at its turn limit; show says how to continue it
    api.dispatcher.script = _turn_limited_then_done
    _, created, _ = cli(api, "submit", "greet", str(make_repo("p")), "--wait", "--json")
    job_id = json.loads(created)["id"]
    _, shown, _ = cli(api, "show", job_id)
    assert f"continue it with: cody-batch continue {job_id} 0 --max-turns N" in shown
    # WHEN too few turns are asked for, THEN the server's reason, exit 2, and the run stays as it was
    code, _, err = cli(api, "continue", job_id, "0", "--max-turns", "1")
    assert code == 2 and "maxTurns must be above the 1 turns" in err and "(give it with --max-turns)" in err
    assert api.store.get_runs([job_id])[job_id][0].status is RunStatus.FAILED
    # WHEN it is continued with more turns and followed
    code, out, _ = cli(api, "continue", job_id, "0", "--max-turns", "5", "--wait", "--json")
    # THEN it went on as the same attempt from turn 1 and the job succeeded
    assert code == 0
    run = json.loads(out)["repositories"][0]
    assert json.loads(out)["status"] == "SUCCEEDED" and run["attempt"] == 1
    assert [(r["reason"], r["fromTurn"]) for r in run["resumptions"]] == [("CONTINUED", 1)]


def test_a_run_the_jobs_cost_limit_stopped_is_continued_with_a_higher_job_limit(api: Api, make_repo: MakeRepo) -> None:
    # GIVEN a job whose run its job's cost limit stopped; show offers the job's limit, not the run's
    api.dispatcher.script = _stopped_then_done(
        RunErrorKind.JOB_BUDGET, "The job cost $0.5000 (its limit $0.40, all its runs together).", cost_usd=0.5
    )
    _, created, _ = cli(api, "submit", "greet", str(make_repo("p")), "--wait", "--json")
    job_id = json.loads(created)["id"]
    _, shown, _ = cli(api, "show", job_id)
    assert f"continue it with: cody-batch continue {job_id} 0 --max-job-cost-usd N" in shown
    # WHEN only the run's cost limit is raised, THEN the server's reason, exit 2, and the run stays as it was
    code, _, err = cli(api, "continue", job_id, "0", "--max-cost-usd", "5")
    assert code == 2 and "stopped by its job's cost limit" in err and "maxJobCostUsd" in err
    assert api.store.get_runs([job_id])[job_id][0].status is RunStatus.FAILED
    # WHEN it is continued with a higher job limit and followed
    code, out, _ = cli(api, "continue", job_id, "0", "--max-job-cost-usd", "2", "--wait", "--json")
    # THEN it went on as the same attempt and the job succeeded, keeping its new limit
    assert code == 0 and json.loads(out)["status"] == "SUCCEEDED"
    stored = api.store.get_job(job_id)
    assert stored is not None and stored.max_job_cost_usd == 2.0


def test_a_run_whose_worker_died_past_its_resumptions_is_continued_without_a_limit(
    api: Api, make_repo: MakeRepo
) -> None:
    # GIVEN a job whose run failed WORKER_DIED after a turn; show says how to continue it, with no limit to raise
    api.dispatcher.script = _stopped_then_done(RunErrorKind.WORKER_DIED, "the worker process was killed")
    _, created, _ = cli(api, "submit", "greet", str(make_repo("p")), "--wait", "--json")
    job_id = json.loads(created)["id"]
    _, shown, _ = cli(api, "show", job_id)
    assert f"continue it with: cody-batch continue {job_id} 0\n" in shown
    # WHEN it is continued with no option and followed
    code, out, _ = cli(api, "continue", job_id, "0", "--wait", "--json")
    # THEN it went on as the same attempt from turn 1 and the job succeeded
    assert code == 0
    run = json.loads(out)["repositories"][0]
    assert json.loads(out)["status"] == "SUCCEEDED" and run["attempt"] == 1
    assert [(r["reason"], r["fromTurn"]) for r in run["resumptions"]] == [("CONTINUED", 1)]


def test_a_run_stopped_by_its_own_token_limit_is_offered_both_of_its_limits(api: Api, make_repo: MakeRepo) -> None:
    # GIVEN a job whose run its own token limit stopped
    api.dispatcher.script = _stopped_then_done(RunErrorKind.BUDGET, "The run used 2000500 tokens (limit 2000000).")
    _, created, _ = cli(api, "submit", "greet", str(make_repo("p")), "--wait", "--json")
    job_id = json.loads(created)["id"]
    # WHEN shown THEN both of the run's own limits are named, the job's is not
    _, shown, _ = cli(api, "show", job_id)
    assert "--max-cost-usd N (or --max-tokens N" in shown and "--max-job-cost-usd" not in shown
    # AND continuing it with more tokens goes on to SUCCEEDED
    code, out, _ = cli(api, "continue", job_id, "0", "--max-tokens", "3000000", "--wait", "--json")
    assert code == 0 and json.loads(out)["status"] == "SUCCEEDED"


def test_continue_names_a_missing_repository_and_exits_1(api: Api, make_repo: MakeRepo) -> None:
    # GIVEN a one-repository job
    _, created, _ = cli(api, "submit", "greet", str(make_repo("p")), "--json")
    job_id = json.loads(created)["id"]
    # WHEN a repository it does not have is continued, THEN one clear line and exit 1
    code, _, err = cli(api, "continue", job_id, "3", "--max-turns", "5")
    assert code == 1 and f"job {job_id} has no repository #3" in err
