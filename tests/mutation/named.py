"""Named mutations: plausible one-line bugs, each of which one named test must catch.

    .venv/bin/python -m tests.mutation.named [INDEX ...]
    .venv/bin/python -m tests.mutation.named --table

Each mutation is applied to a fresh copy of the project's files (never to the working tree); its
test must pass on the copy as it is and fail once the line is changed. docs/TESTING.md lists them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Mutation:
    """Replace `before` (found exactly once in `path`) by `after`; `test` (a pytest node id) must fail."""

    path: str
    before: str
    after: str
    test: str
    effect: str


MUTATIONS = [
    Mutation(
        "core/locations.py",
        "out.append(re.escape(ch))",
        "out.append(ch)",
        "tests/unit/github/test_locations.py::test_every_regex_metacharacter_in_a_pattern_is_literal",
        "allowlist bypass: `/srv/a+b/*` admits `/srv/aab/x`",
    ),
    Mutation(
        "core/state.py",
        "R.PENDING: frozenset({*_WORKING, R.FAILED, R.CANCELLED}),",
        "R.PENDING: frozenset({*_WORKING, *_ENDS}),",
        "tests/unit/core/test_state.py::test_every_transition_outside_the_lifecycle_is_refused",
        "a run may skip its whole pipeline and succeed",
    ),
    Mutation(
        "worker/patch.py",
        "deletions=sum(f.deletions for f in diff.files),",
        "deletions=sum(f.additions for f in diff.files),",
        "tests/unit/worker/test_patch.py::test_additions_and_deletions_are_counted_apart",
        "wrong patch statistics",
    ),
    Mutation(
        "core/locations.py",
        'out.append("[^/]")',
        'out.append(".")',
        "tests/unit/github/test_locations.py::test_question_mark_matches_exactly_one_character_within_a_segment",
        "`?` matches a slash: a pattern reaches into nested folders",
    ),
    Mutation(
        "core/locations.py",
        'flags = re.IGNORECASE if pattern.lower().startswith(GITHUB_HOST + "/") else 0',
        "flags = re.IGNORECASE",
        "tests/unit/github/test_locations.py::test_local_patterns_are_case_sensitive",
        "local patterns ignore case: `/srv/Repos/*` admits `/srv/repos/app`",
    ),
    Mutation(
        "core/state.py",
        "if any(s is R.CANCELLED for s in runs):",
        "if all(s is R.CANCELLED for s in runs):",
        "tests/unit/core/test_state.py::test_job_status_is_derived_from_runs",
        "a job with failed and cancelled runs shows FAILED instead of CANCELLED",
    ),
    Mutation(
        "core/pricing.py",
        'cache_read_tokens * row.get("cache_read", 0.0)',
        'cache_read_tokens * row.get("cache_write", 0.0)',
        "tests/unit/core/test_pricing.py::test_each_kind_of_token_is_priced_at_its_own_rate",
        "cache reads billed at the cache-write rate",
    ),
    Mutation(
        "server/web/auth.py",
        'if key.lower() == "authorization" and isinstance(item, str):',
        'if key == "authorization" and isinstance(item, str):',
        "tests/unit/server/test_token_guard.py::test_connection_init_params_carry_the_token_like_the_header",
        "a WebSocket client sending `Authorization` is refused",
    ),
    Mutation(
        "worker/validation.py",
        "return Verdict.REGRESSED if before.passed else Verdict.PRE_EXISTING_FAILURE",
        "return Verdict.PRE_EXISTING_FAILURE if before.passed else Verdict.REGRESSED",
        "tests/unit/worker/test_validation.py::test_check_command_verdicts",
        "a change that breaks the check is called a pre-existing failure",
    ),
    Mutation(
        "worker/agent/isolation.py",
        '("unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"),',
        '("unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--mount-proc"),',
        "tests/unit/agent/test_command_tool.py::test_without_bubblewrap_commands_fall_back_to_unshare",
        "agent commands get the network while the run claims isolation",
    ),
    Mutation(
        "worker/agent/isolation.py",
        "if probe.returncode != 0:",
        "if probe.returncode == 0:",
        "tests/unit/agent/test_command_tool.py::test_commands_have_no_network_where_the_kernel_allows_it",
        "isolation probing broken: commands silently run unisolated",
    ),
    Mutation(
        "worker/agent/isolation.py",
        "for place in _directories([Path.home(), Path(tempfile.gettempdir()), *SHARED_PLACES, *hidden]):",
        "for place in _directories([Path.home(), Path(tempfile.gettempdir()), *SHARED_PLACES]):",
        "tests/security/test_command_sandbox.py::test_a_command_sees_only_the_workspace_of_the_private_places",
        "commands read the store with every job's threads",
    ),
    Mutation(
        "worker/agent/isolation.py",
        '    "--unshare-all",',
        '    "--unshare-user",',
        "tests/unit/agent/test_command_tool.py::test_commands_have_no_network_where_the_kernel_allows_it",
        "commands in bubblewrap get the network and see the worker's processes",
    ),
    Mutation(
        "worker/agent/command.py",
        "process_group=0,",
        "start_new_session=True,",
        "tests/security/test_command_sandbox.py::test_a_command_keeps_the_runs_priority_and_autogroup",
        "commands leave the run's autogroup and compete with the server at full weight",
    ),
    Mutation(
        "server/cli/follow.py",
        'variables = {"id": latest["id"], "after": latest.get("cursor")}',
        'variables = {"id": latest["id"], "after": None}',
        "tests/integration/cli/test_cli_live.py::test_wait_reconnects_with_its_cursor_after_a_server_restart",
        "the CLI resubscribes from scratch after a reconnect",
    ),
    Mutation(
        "resolvers/subscriptions.py",
        "send_first=after is None or job.last_seq > after_seq",
        "send_first=True",
        "tests/integration/api/test_subscriptions.py::test_resume_with_current_cursor_skips_the_snapshot",
        "a resumed subscription repeats what the client already saw",
    ),
    Mutation(
        "worker/agent/client.py",
        "api_key=endpoint.api_key.get_secret_value(),",
        "api_key=str(endpoint.api_key),",
        "tests/unit/agent/test_caching_and_setup.py::test_make_client_uses_key_base_url_and_bounded_retries",
        "the client sends the masked key `**********`",
    ),
    Mutation(
        "worker/agent/loop.py",
        "timeout=self._timeout(),",
        'timeout=self._timeout(), extra_body={"betas": ["context-management-2025-06-27"]},',
        "tests/unit/agent/test_loop.py::test_agent_edits_a_real_repository_and_records_the_thread",
        "beta names sent in the body, where the API refuses them, instead of the `anthropic-beta` header",
    ),
]


def _project_copy(into: Path) -> None:
    """The tracked and new (not ignored) files of the project, copied under `into`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)


def _pytest(copy: Path, tests: list[str]) -> int:
    """Exit code of pytest running `tests` on the copy (its packages first on the path)."""
    env = {**os.environ, "PYTHONPATH": str(copy)}
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *dict.fromkeys(tests)]
    return subprocess.run(command, cwd=copy, env=env, capture_output=True, check=False).returncode


def table() -> str:
    """The mutations as the Markdown table docs/TESTING.md shows."""
    rows = [
        f"| `{m.path}`: `{m.before}` → `{m.after}` | {m.effect} | `{m.test.replace('::', ' ')}` |" for m in MUTATIONS
    ]
    return "\n".join(["| mutation | effect | caught by |", "|---|---|---|", *rows])


def main(selected: list[int]) -> int:
    chosen = [MUTATIONS[i] for i in selected] if selected else MUTATIONS
    failures = 0
    with tempfile.TemporaryDirectory(prefix="named-mutations-") as scratch:
        copy = Path(scratch)
        _project_copy(copy)
        if _pytest(copy, [m.test for m in chosen]) != 0:
            print("the named tests fail on the unmutated project; fix that first")
            return 1
        for mutation in chosen:
            target = copy / mutation.path
            original = target.read_text()
            if original.count(mutation.before) != 1:
                print(f"MISSING  {mutation.path}: `{mutation.before}` is not there exactly once")
                failures += 1
                continue
            target.write_text(original.replace(mutation.before, mutation.after))
            try:
                code = _pytest(copy, [mutation.test])
            finally:
                target.write_text(original)
            caught = code == 1  # 1: tests failed; anything else is a broken run, not a catch
            failures += not caught
            print(f"{'CAUGHT ' if caught else 'MISSED '}  {mutation.path}: {mutation.effect} -> {mutation.test}")
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--table"]:
        print(table())
        sys.exit(0)
    sys.exit(main([int(arg) for arg in sys.argv[1:]]))
