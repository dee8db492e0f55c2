"""The text of a pull request: title, and a body whose own sections come before the model's summary.

Everything that could have been steered by a repository's content (the summary, file
paths, check names) and the instruction pass through `worker.github.markdown`, so they
can neither act on GitHub nor hide the verdict, the file list or the footer.
"""

from __future__ import annotations

from core.models import Job, Patch, RepositoryRun, Validation
from worker.github.markdown import escape_controls, inert_markdown, inert_references

MAX_BODY_CHARS = 60_000  # GitHub refuses bodies over 65,536 characters
MAX_PROMPT_CHARS = 4_000
MAX_SUMMARY_CHARS = 20_000
MAX_FILE_ROWS = 100
MAX_PATH_CHARS = 300
MAX_TITLE_CHARS = 250


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _cell(text: str, *, code: bool = False) -> str:
    """A name for a table cell or list item: one visible line, no table or code-span breakers, inert.

    Inside a code span (`code`) nothing is markup, so `<` stays as it is; outside it is escaped.
    """
    one_line = escape_controls(text).replace("|", "\\|").replace("`", "'")
    return _clip(inert_references(one_line) if code else inert_markdown(one_line), MAX_PATH_CHARS)


def pull_request_title(job: Job) -> str:
    """The job title, on one line and within GitHub's limit."""
    return _clip(" ".join(job.title.split()), MAX_TITLE_CHARS)


def _files_section(patch: Patch) -> list[str]:
    lines = [
        f"### Files changed ({patch.files_changed}, +{patch.additions} -{patch.deletions})",
        "",
        "| File | Change | + | - |",
        "| --- | --- | ---: | ---: |",
    ]
    for file in patch.files[:MAX_FILE_ROWS]:
        counts = ("bin", "bin") if file.binary else (str(file.additions), str(file.deletions))
        lines.append(f"| `{_cell(file.path, code=True)}` | {_cell(file.change.lower())} | {counts[0]} | {counts[1]} |")
    if len(patch.files) > MAX_FILE_ROWS:
        lines.append(f"| … and {len(patch.files) - MAX_FILE_ROWS} more | | | |")
    return lines


def _validation_section(validation: Validation | None) -> list[str]:
    if validation is None:
        return ["### Validation", "", "**UNVERIFIED**: no checks ran."]
    lines = ["### Validation", "", f"**{validation.verdict.value}**"]
    if validation.checks:
        lines.append("")
        lines += [f"- {_cell(check.name)}: {check.status.lower()}" for check in validation.checks]
    return lines


def pull_request_body(
    job: Job,
    run: RepositoryRun,
    summary: str | None,
    validation: Validation | None,
    patch: Patch,
    public_url: str | None,
    *,
    replaces: int | None = None,
) -> str:
    """Markdown body of a run's pull request; `replaces` names a closed pull request GitHub would not reopen."""
    job_ref = f"job `{job.id}`"
    if public_url:
        job_ref = f"[job {job.id}]({public_url.rstrip('/')}/jobs/{job.id})"
    ours = [
        _validation_section(validation),
        ["### Instruction", "", _quote(_clip(inert_markdown(job.prompt), MAX_PROMPT_CHARS))],
        _files_section(patch),
    ]
    if replaces is not None:
        ours.append([f"Replaces #{replaces}, which was closed and could not be reopened."])
    footer = f"---\nOpened by Cody Batch for {job_ref} (attempt {run.attempt}), model `{job.model}`.\n"
    head = "\n\n".join("\n".join(section) for section in ours) + "\n\n### Summary by Claude\n\n"
    # The summary gets what room is left, so clipping never cuts the verdict, the files or the footer.
    room = max(0, MAX_BODY_CHARS - len(head) - len(footer) - 2)
    text = summary.strip() if summary and summary.strip() else ""
    quoted = _clip(_quote(_clip(inert_markdown(text), MAX_SUMMARY_CHARS)), room) if text else "_No summary._"
    return _clip(head + quoted + "\n\n" + footer, MAX_BODY_CHARS)


def commit_message(job: Job, run: RepositoryRun) -> str:
    """Commit message of the change: the title, the instruction, and a trailer naming the job.

    Closing keywords in a commit message close issues when it reaches the default branch.
    """
    return (
        f"{pull_request_title(job)}\n\n{inert_references(_clip(job.prompt, MAX_PROMPT_CHARS))}\n\n"
        f"Cody-Batch-Job: {job.id}\nCody-Batch-Attempt: {run.attempt}\n"
    )
