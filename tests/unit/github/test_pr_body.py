"""The pull request's text: everything a reviewer needs, within GitHub's limits."""

from __future__ import annotations

from core.models import Job, Patch, PatchFile, RepositoryRun, Validation, ValidationCheck, Verdict
from worker.github.pr_body import MAX_BODY_CHARS, commit_message, pull_request_body, pull_request_title

JOB = Job(id="01JOB", title="Fix  the\nbug", prompt="Fix the bug.\n\nKeep tests green.", model="claude-x")
RUN = RepositoryRun(job_id="01JOB", index=0, location="github.com/acme/app", attempt=2)
PATCH = Patch(
    artifact_key="k",
    files=[
        PatchFile(path="src/a|b.py", change="MODIFIED", additions=3, deletions=1),
        PatchFile(path="logo.png", change="ADDED", binary=True),
    ],
    additions=3,
    deletions=1,
)


def test_body_holds_summary_instruction_stats_verdict_and_link() -> None:
    validation = Validation(verdict=Verdict.REGRESSED, checks=[ValidationCheck(name="pytest", status="FAILED")])
    body = pull_request_body(JOB, RUN, "Fixed it.", validation, PATCH, "https://cody.example.com/")
    assert body.endswith(
        "### Summary by Claude\n\n> Fixed it.\n\n---\nOpened by Cody Batch for "
        "[job 01JOB](https://cody.example.com/jobs/01JOB) (attempt 2), model `claude-x`.\n"
    )
    assert "> Fix the bug.\n>\n> Keep tests green." in body
    assert "### Files changed (2, +3 -1)" in body
    assert "| `src/a\\|b.py` | modified | 3 | 1 |" in body
    assert "| `logo.png` | added | bin | bin |" in body
    assert "**REGRESSED**" in body and "- pytest: failed" in body
    assert "[job 01JOB](https://cody.example.com/jobs/01JOB) (attempt 2)" in body


def test_without_summary_validation_or_public_url() -> None:
    body = pull_request_body(JOB, RUN, "  ", None, PATCH, None)
    assert "_No summary._" in body and "**UNVERIFIED**" in body
    assert "job `01JOB`" in body and "http" not in body


def test_long_texts_are_clipped_to_githubs_limit() -> None:
    many = Patch(artifact_key="k", files=[PatchFile(path=f"f{i}.py", change="ADDED") for i in range(500)])
    job = JOB.model_copy(update={"prompt": "p" * 200_000})
    body = pull_request_body(job, RUN, "s" * 200_000, None, many, None)
    assert len(body) <= MAX_BODY_CHARS
    assert "… and 400 more" in body


def test_escaping_never_pushes_the_verdict_or_footer_out_of_the_body() -> None:
    # GIVEN names and a summary made of characters that escaping makes longer (newlines, <, @)
    long_path = "\n<@" * 5_000
    files = [PatchFile(path=f"{long_path}{i}", change="ADDED") for i in range(100)]
    job = JOB.model_copy(update={"prompt": "<\n@" * 50_000})
    body = pull_request_body(job, RUN, "\n<" * 100_000, None, Patch(artifact_key="k", files=files), None)
    # THEN the body fits GitHub's limit with every file row, the verdict and the footer
    assert len(body) <= MAX_BODY_CHARS
    assert "**UNVERIFIED**" in body and body.endswith("model `claude-x`.\n")
    assert sum(1 for line in body.splitlines() if line.startswith("| `")) == 100


def test_title_and_commit_message() -> None:
    assert pull_request_title(JOB) == "Fix the bug"
    message = commit_message(JOB, RUN)
    assert message.startswith("Fix the bug\n\nFix the bug.")
    assert message.endswith("Cody-Batch-Job: 01JOB\nCody-Batch-Attempt: 2\n")
