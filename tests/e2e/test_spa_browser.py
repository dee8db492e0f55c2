"""The SPA in headless Chromium against a real server, real workers and a fake Claude over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from server.demo.anthropic_replay import RecordedRequest
from tests.e2e.conftest import Server, run_browser
from tests.fakes.anthropic_server import FakeAnthropic, edit, text_turn, tool_turn, view
from tests.patience import PATIENCE

PATCH_QUERY = "query($id: ID!) { job(id: $id) { status repositories { patch { diff } } } }"


# The same page against the local server and against the AWS code path on its emulator.
SERVERS = {"serve": ("serve",), "aws-emulate": ("aws", "emulate")}


@pytest.mark.parametrize("command", sorted(SERVERS))
def test_job_created_in_the_browser_runs_live_and_its_patch_downloads_byte_for_byte(
    serve: Callable[..., Server], make_repo: Callable[..., Path], output_dir: Path, command: str
) -> None:
    # GIVEN a server with real workers and a fake Claude that waits until the browser shows the run working
    repo = make_repo("greeter")
    seen_running = threading.Event()

    def first_turn(request: object) -> dict[str, Any]:
        seen_running.wait(timeout=PATIENCE)
        return tool_turn(view("app.py"))

    with FakeAnthropic() as fake:
        fake.script(
            [
                first_turn,
                tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')")),
                text_turn("Changed the greeting to hello."),
            ]
        )
        server = serve({"ANTHROPIC_API_KEY": fake.api_key, "ANTHROPIC_BASE_URL": fake.url}, command=SERVERS[command])

        # WHEN a person creates the job through the form and follows it
        def progress(line: str) -> None:
            if line == "RUNNING_SEEN":
                seen_running.set()

        result = run_browser("spa_flow.mjs", [server.url, str(repo), str(output_dir)], progress)
        seen_running.set()

    assert "error" not in result, result["error"] + "\n" + server.log.read_text()[-3000:]
    # THEN the form is accessible: every control labelled, Tab reaches the submit button in order
    assert result["formAccessibility"]["controls"] >= 9
    assert result["formAccessibility"]["unlabeled"] == []
    assert result["formAccessibility"]["unnamedButtons"] == []
    tab_ids = [f["id"] for f in result["tabOrder"]]
    assert tab_ids.index("prompt") < tab_ids.index("repositories")
    assert result["tabOrder"][-1]["type"] == "submit"
    # AND the allowlist was checked while typing
    assert "is not allowed" in result["allowlistMessage"]
    assert result["allowlistMessageAfterFix"] == 0
    # AND the run's status changed on the page without a reload, ending SUCCEEDED even though the
    # WebSocket was dropped while the run finished (the client reconnected and caught up)
    assert result["socketsBeforeDrop"] >= 1 and result["socketsAfterDrop"] > result["socketsBeforeDrop"]
    # AND the page said so while the connection was down, and stopped saying so once it was back
    assert result["connectionBannerShown"] is True and result["connectionBannerAfter"] == 0
    assert result["statuses"][0] in {"PENDING", "CLONING", "RUNNING_AGENT"}
    assert "RUNNING_AGENT" in result["statuses"] and result["statuses"][-1] == "SUCCEEDED"
    assert result["jobStatus"] == "SUCCEEDED"
    assert result["sameDocument"] is True and result["sameDocumentAtEnd"] is True
    # AND the diff shows the edit
    assert result["diffFiles"] == ["app.py"]
    assert any("print('hello')" in line for line in result["diffAdded"])
    # AND the downloaded patch is byte-for-byte the API's patch.diff
    job = server.graphql(PATCH_QUERY, {"id": result["jobId"]})["job"]
    api_diff = job["repositories"][0]["patch"]["diff"]
    assert Path(result["downloadPath"]).read_bytes() == api_diff.encode()
    # AND the thread shows the conversation with the tool calls
    assert result["threadRoles"][:2] == ["user", "assistant"]
    assert result["toolCalls"] == ["str_replace_based_edit_tool", "str_replace_based_edit_tool"]
    # AND the review page, the jobs list, a cold bookmarked route and GraphiQL all work
    assert result["reviewFiles"] == ["app.py"]
    assert result["listRow"]["status"] == "SUCCEEDED"
    assert "Greeting in the browser" in result["listRow"]["cells"][0]
    assert result["coldReviewTitle"] == "Review: Greeting in the browser"
    assert result["graphiqlQuery"] is True and result["graphiqlSubscription"] is True
    # AND text meets WCAG AA contrast in the light and the dark scheme
    assert result["contrastProbeCaught"] is True
    assert result["contrast"] == {"light": [], "dark": []}
    # AND nothing was loaded from another origin, and no script error happened
    assert result["offOrigin"] == []
    assert result["pageErrors"] == []


def test_demo_mode_says_so_and_replays_the_recorded_session_on_the_sample(
    serve: Callable[..., Server], tmp_path: Path, output_dir: Path
) -> None:
    # GIVEN `cody-batch serve --demo` with no API key and the default allowlist (the samples)
    server = serve({"CODY_BATCH_ALLOWED_REPOS": ""}, "--demo")
    sample = tmp_path / "data" / "samples" / "hello-python"
    # WHEN a person runs a job on the sample repository from the form
    result = run_browser("demo_flow.mjs", [server.url, str(sample), str(output_dir)])
    # THEN the page says the model is a recording, and the run ends with a change
    assert "error" not in result, result["error"] + "\n" + server.log.read_text()[-3000:]
    assert "recorded demo session, not Claude" in result["banner"]
    assert result["repositories"] == str(sample)  # filled by the form's "use the sample" button
    assert result["runStatus"] == "SUCCEEDED"
    assert result["summary"].strip()
    assert result["diffFiles"]
    assert result["offOrigin"] == [] and result["pageErrors"] == []


def _stateless_turn(request: RecordedRequest) -> dict[str, Any]:
    """View, edit, then finish, decided by the conversation so far, so parallel runs cannot mix turns up."""
    turns_so_far = sum(1 for message in request.body["messages"] if message["role"] == "assistant")
    if turns_so_far == 0:
        return tool_turn(view("app.py"))
    if turns_so_far == 1:
        return tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')"))
    return text_turn("Changed the greeting to hello.")


def test_one_change_across_two_repositories_is_reviewed_on_one_page(
    serve: Callable[..., Server], make_repo: Callable[..., Path], output_dir: Path
) -> None:
    # GIVEN a job over two repositories that finished with a patch each
    repos = [make_repo("alpha"), make_repo("beta", {"app.py": "print('hi')\n", "lib/util.py": "X = 1\n"})]
    with FakeAnthropic() as fake:
        fake.script([_stateless_turn] * 6)
        server = serve({"ANTHROPIC_API_KEY": fake.api_key, "ANTHROPIC_BASE_URL": fake.url})
        created = server.graphql(
            "mutation($input: CreateJobInput!) { createJob(input: $input) { ... on Job { id } } }",
            {"input": {"prompt": "Say hello", "title": "Hello everywhere", "repositories": [str(r) for r in repos]}},
        )
        job_id = created["createJob"]["id"]
        status = server.finished_job(job_id)["status"]
    assert status == "SUCCEEDED", server.log.read_text()[-3000:]
    # WHEN the review page is opened
    result = run_browser("review_flow.mjs", [server.url, job_id, str(output_dir)])
    # THEN both repositories' diffs are on it, and the file matrix has a column per repository
    assert "error" not in result, result["error"]
    assert result["title"] == "Review: Hello everywhere"
    assert result["repositories"] == [str(r) for r in repos]
    assert result["diffFiles"] == ["app.py", "app.py"]
    assert result["matrixFiles"] == ["app.py"]
    assert len(result["matrixHeads"]) == 3  # the file column, then one per repository
    # AND the job page tallies the outcomes and fits a phone's width
    assert result["tally"] == "2 succeeded"
    assert result["narrowOverflow"] <= 0
    assert result["offOrigin"] == [] and result["pageErrors"] == []


def test_a_run_stopped_by_its_turn_limit_is_continued_from_its_page_to_succeeded_live(
    serve: Callable[..., Server], make_repo: Callable[..., Path], output_dir: Path
) -> None:
    # GIVEN a run that viewed and edited, then stopped at its limit of 2 turns; its third answer is
    # held until the browser shows the continued run working
    repo = make_repo("greeter")
    seen_running = threading.Event()

    def third_turn(request: object) -> dict[str, Any]:
        seen_running.wait(timeout=PATIENCE)
        return text_turn("Changed the greeting to hello.")

    with FakeAnthropic() as fake:
        fake.script(
            [
                tool_turn(view("app.py")),
                tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')")),
                third_turn,
            ]
        )
        server = serve({"ANTHROPIC_API_KEY": fake.api_key, "ANTHROPIC_BASE_URL": fake.url})
        created = server.graphql(
            "mutation($input: CreateJobInput!) { createJob(input: $input) { ... on Job { id } } }",
            {"input": {"prompt": "Say hello", "repositories": [str(repo)], "budget": {"maxTurns": 2}}},
        )
        job_id = created["createJob"]["id"]

        # WHEN a person opens its page, raises the limit to 4 turns and presses Continue
        def progress(line: str) -> None:
            if line == "RUNNING_SEEN":
                seen_running.set()

        result = run_browser("continue_flow.mjs", [server.url, job_id, str(output_dir)], progress)
        seen_running.set()
        requests = fake.requests

    assert "error" not in result, result["error"] + "\n" + server.log.read_text()[-3000:]
    # THEN the page offered Continue for the turn limit, asking for the new limit first
    assert "Turn limit" in result["errorBefore"]
    assert result["disabledBeforeLimit"] is True
    # AND the run went back to work and on to SUCCEEDED on the same page, without a reload, the
    # Continue button gone while it ran and the error gone at the end
    assert result["statuses"][0] == "FAILED" and result["statuses"][-1] == "SUCCEEDED"
    assert any(s in {"PENDING", "CLONING", "RUNNING_AGENT"} for s in result["statuses"][1:-1])
    assert result["continueButtonWhileRunning"] == 0
    assert result["jobStatus"] == "SUCCEEDED" and result["errorAfter"] == 0
    assert result["sameDocument"] is True
    # AND its history says it was continued from turn 2, with the raised limit, as the same attempt
    [entry] = result["history"]
    assert entry.startswith("Continued from turn 2 at") and "after its turn limit, with at most 4 turns" in entry
    assert result["meta"].startswith("Attempt 1")
    # AND the edit of turn 2 (made before the limit) is in the patch, and only one request was added
    assert any("print('hello')" in line for line in result["diffAdded"])
    assert len(requests) == 3
    assert result["offOrigin"] == [] and result["pageErrors"] == []


def test_a_run_stopped_by_its_jobs_cost_limit_is_continued_from_its_page_with_a_higher_job_limit(
    serve: Callable[..., Server], make_repo: Callable[..., Path], output_dir: Path
) -> None:
    # GIVEN a server whose job cost limit the run's first reply (an edit) goes over; the reply after
    # it is held until the browser shows the continued run working
    repo = make_repo("greeter")
    seen_running = threading.Event()

    def second_turn(request: object) -> dict[str, Any]:
        seen_running.wait(timeout=120)
        return text_turn("Changed the greeting to hello.")

    with FakeAnthropic() as fake:
        fake.script(
            [tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')")), second_turn]
        )
        environment = {"ANTHROPIC_API_KEY": fake.api_key, "ANTHROPIC_BASE_URL": fake.url}
        server = serve({**environment, "CODY_BATCH_MAX_JOB_COST_USD": "0.000001"})
        created = server.graphql(
            "mutation($input: CreateJobInput!) { createJob(input: $input) { ... on Job { id } } }",
            {"input": {"prompt": "Say hello", "repositories": [str(repo)]}},
        )
        job_id = created["createJob"]["id"]

        # WHEN a person opens its page, sets the job's limit to $1 and presses Continue
        def progress(line: str) -> None:
            if line == "RUNNING_SEEN":
                seen_running.set()

        label = "Job cost limit (USD, all its runs)"
        result = run_browser("continue_flow.mjs", [server.url, job_id, str(output_dir), label, "1"], progress)
        seen_running.set()
        requests = fake.requests

    assert "error" not in result, result["error"] + "\n" + server.log.read_text()[-3000:]
    # THEN the page named the job's limit as what stopped the run, and offered only that limit to raise
    assert "Job budget" in result["errorBefore"] and "The job cost" in result["errorBefore"]
    assert result["limitsOffered"] == [label + " "] and result["disabledBeforeLimit"] is True
    # AND the run went on to SUCCEEDED live, its history naming the job's new limit
    assert result["statuses"][0] == "FAILED" and result["statuses"][-1] == "SUCCEEDED"
    assert result["jobStatus"] == "SUCCEEDED" and result["errorAfter"] == 0
    [entry] = result["history"]
    assert entry.startswith("Continued from turn 1 at") and "after its job's cost limit" in entry
    assert "the job at most $1.0" in entry
    # AND the edit of the reply that went over the limit is in the patch, and one request was added
    assert any("print('hello')" in line for line in result["diffAdded"])
    assert len(requests) == 2
    assert result["offOrigin"] == [] and result["pageErrors"] == []
