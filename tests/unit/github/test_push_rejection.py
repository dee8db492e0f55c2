"""What git says when a push fails: the remote's reason kept, refusals told apart from transient failures."""

from __future__ import annotations

import pytest

from worker.github.push_rejection import MAX_REASON_CHARS, is_transient, push_error, remote_reason

PROTECTED = (
    "remote: error: GH006: Protected branch update failed for refs/heads/x.\n"
    "remote: error: Changes must be made through a pull request.\n"
    "!\tHEAD:refs/heads/x\t[remote rejected] (protected branch hook declined)\n"
    "error: failed to push some refs to 'https://github.com/acme/app.git'\n"
)


def test_the_remote_lines_and_the_verdict_are_kept_in_order() -> None:
    assert remote_reason(PROTECTED) == (
        "error: GH006: Protected branch update failed for refs/heads/x.; "
        "error: Changes must be made through a pull request.; "
        "[remote rejected] (protected branch hook declined); "
        "error: failed to push some refs to 'https://github.com/acme/app.git'"
    )


def test_a_long_reason_is_clipped_and_an_empty_one_says_so() -> None:
    assert len(remote_reason("remote: " + "x" * 5000)) == MAX_REASON_CHARS
    assert remote_reason("To https://github.com/acme/app.git\n") == "git gave no reason"


@pytest.mark.parametrize(
    ("reason", "transient", "kind"),
    [
        (remote_reason(PROTECTED), False, "PUSH_FAILED"),
        ("remote: error: This repository was archived so it is read-only.", False, "REPOSITORY_ARCHIVED"),
        ("remote: Permission to acme/app.git denied to bot.", False, "NO_PUSH_PERMISSION"),
        ("fatal: unable to access '...': The requested URL returned error: 403", False, "NO_PUSH_PERMISSION"),
        ("! [rejected] HEAD -> x (stale info)", False, "BRANCH_MODIFIED"),
        ("error: RPC failed; HTTP 502 curl 22 The requested URL returned error: 502", True, "PUSH_FAILED"),
        ("fatal: the remote end hung up unexpectedly", True, "PUSH_FAILED"),
        ("fatal: unable to access '...': Could not resolve host: github.com", True, "PUSH_FAILED"),
        ("remote: something new GitHub says", False, "PUSH_FAILED"),
    ],
)
def test_refusals_are_final_and_failures_of_the_network_are_retried(reason: str, transient: bool, kind: str) -> None:
    assert is_transient(reason) is transient
    error = push_error("cody-batch/j", "acme/app", reason)
    assert error.kind == kind and reason in error.message and "acme/app" in error.message
