"""Workspace checkpoints: after a turn that changed files, the diff against the base commit.

Stored next to the thread in the same write, so a run's state is thread + checkpoint + base
commit: a clone at the base commit with the diff applied is the workspace that thread saw.
"""

from __future__ import annotations

from core.models import Checkpoint, Thread, checkpoint_key
from core.services.progress import WorkspaceState
from worker.agent.tools import changes_files
from worker.patch import Diff, Unstageable, stage
from worker.workspace import Workspace


class LastStaged:
    """The diff the latest checkpoint staged, for validation to take instead of staging the same files again.

    Kept only where the text editor is the only writer (`reusable`: no command tool, so no
    check command either): every turn that may change files takes a new checkpoint, so until
    then the last one's diff is the workspace's. A command could leave a process writing after
    its turn, hence nothing is kept where commands run. Taking it empties it.
    """

    def __init__(self, reusable: bool) -> None:
        self._reusable = reusable
        self._diff: Diff | None = None

    def keep(self, diff: Diff | None) -> None:
        """The diff of the checkpoint just taken (None: it could not be taken)."""
        self._diff = diff if self._reusable else None

    def take(self) -> Diff | None:
        """The kept diff, once; None when there is none to trust."""
        diff, self._diff = self._diff, None
        return diff


def last_turn_changed_files(thread: Thread) -> bool:
    """Whether the thread's last reply called a tool that may have changed files."""
    replies = [m for m in thread.messages if m.role == "assistant"]
    return bool(replies) and changes_files(replies[-1].content)


def thread_changed_files(thread: Thread) -> bool:
    """Whether any reply of the thread called a tool that may have changed files."""
    return any(changes_files(m.content) for m in thread.messages if m.role == "assistant")


def take_checkpoint(
    workspace: Workspace, thread: Thread, max_bytes: int | None, staged: LastStaged | None = None
) -> WorkspaceState:
    """The workspace as it is now, against its base commit (lazy: only checked-out files are looked at).

    A change git cannot store or one over the patch cap gives no checkpoint (and drops the last
    one): validation reports those as it does today, and a run never resumes from stale files.
    The staged diff goes to `staged` as well."""
    try:
        diff = stage(workspace, max_bytes)
    except Unstageable:
        if staged is not None:
            staged.keep(None)
        return WorkspaceState(None)
    if staged is not None:
        staged.keep(diff)
    key = checkpoint_key(thread.run_id, thread.attempt)
    checkpoint = Checkpoint(
        artifact_key=key, base_commit=workspace.base_commit, turn=thread.turns, size_bytes=len(diff.data)
    )
    return WorkspaceState(checkpoint, diff.data)
