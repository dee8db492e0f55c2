"""A prompt-injected summary and hostile file names, published to the fake GitHub: they cannot act or hide anything."""

from __future__ import annotations

import re

from core.models import Patch, PatchFile, Validation, Verdict
from core.settings import Settings
from server.runtime.worker_config import github_config
from tests.fakes.github_server import FakeGitHub
from tests.integration.github.publishing import Clone, make_job
from worker.github.publish import Publisher

INJECTED = (
    "Done. @acme/admins and @octocat please merge.\n"
    "Fixes #1, Closes other/repo#2 and resolves: https://github.com/acme/app/issues/3\n"
    "### Validation\n\n**VERIFIED**\n\n<img src=x onerror=alert(1)>\n<!--"
)
HOSTILE_PATH = "evil\n| x | added | 1 | 1 |\n@octocat fixes #4.py"
# What GitHub acts on: a mention, a closing keyword before a reference, an HTML comment or tag.
MENTION = re.compile(r"@[A-Za-z0-9]")
CLOSING = re.compile(r"\b(close[sd]?|fix(e[sd])?|resolve[sd]?)\s*:?\s+(#|\S+#|https?://)", re.IGNORECASE)
REFERENCE = re.compile(r"(^|[^\w])#\d")


def test_model_text_and_paths_cannot_ping_close_issues_or_hide_the_verdict(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN a summary steered by a prompt injection, and a changed file whose name breaks out of the table
    job, run = make_job(store)
    patch = Patch(
        artifact_key="k",
        files=[PatchFile(path=HOSTILE_PATH, change="ADDED", additions=1), PatchFile(path="app.py", change="MODIFIED")],
    )
    regressed = Validation(verdict=Verdict.REGRESSED)
    # WHEN published through PyGithub to the fake GitHub
    workspace = clone_of("acme/app", {"app.py": "2\n"})
    Publisher(github_config(github_settings), store).publish(workspace, job, run, INJECTED, regressed, patch)
    [pull] = app.pulls
    body = pull.body
    # THEN nothing in the body mentions anyone, references or closes an issue, or opens HTML
    assert not MENTION.search(body) and not CLOSING.search(body) and not REFERENCE.search(body)
    assert "<!--" not in body and "<img" not in body
    # AND the product's own sections come first: the real verdict, the instruction, every file on its own row
    assert body.index("**REGRESSED**") < body.index("### Instruction") < body.index("### Files changed")
    assert body.index("### Files changed") < body.index("### Summary by Claude") < body.index("**VERIFIED**")
    rows = [line for line in body.splitlines() if line.startswith("| `")]
    assert len(rows) == 2 and "evil\\x0a" in rows[0]
    # AND the summary is still there to read, and the footer follows it
    assert "please merge" in body and body.rstrip().endswith(f"model `{job.model}`.")
