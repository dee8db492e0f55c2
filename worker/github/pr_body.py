"""The text of a pull request: title, and a body with instruction, summary, stats, verdict and link."""

from __future__ import annotations

from core.models import Job, Patch, RepositoryRun, Validation

MAX_BODY_CHARS = 60_000  # GitHub refuses bodies over 65,536 characters
MAX_PROMPT_CHARS = 4_000
MAX_SUMMARY_CHARS = 20_000
MAX_FILE_ROWS = 100
MAX_TITLE_CHARS = 250


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


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
        lines.append(f"| `{_cell(file.path)}` | {file.change.lower()} | {counts[0]} | {counts[1]} |")
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
) -> str:
    """Markdown body of a run's pull request."""
    job_ref = f"job `{job.id}`"
    if public_url:
        job_ref = f"[job {job.id}]({public_url.rstrip('/')}/jobs/{job.id})"
    summary_text = _clip(summary.strip(), MAX_SUMMARY_CHARS) if summary and summary.strip() else "_No summary._"
    sections = [
        ["### Summary", "", summary_text],
        ["### Instruction", "", _quote(_clip(job.prompt, MAX_PROMPT_CHARS))],
        _files_section(patch),
        _validation_section(validation),
        ["---", f"Opened by Cody Batch for {job_ref} (attempt {run.attempt}), model `{job.model}`."],
    ]
    body = "\n\n".join("\n".join(section) for section in sections) + "\n"
    return _clip(body, MAX_BODY_CHARS)


def commit_message(job: Job, run: RepositoryRun) -> str:
    """Commit message of the change: the title, the instruction, and a trailer naming the job."""
    return (
        f"{pull_request_title(job)}\n\n{_clip(job.prompt, MAX_PROMPT_CHARS)}\n\n"
        f"Cody-Batch-Job: {job.id}\nCody-Batch-Attempt: {run.attempt}\n"
    )
