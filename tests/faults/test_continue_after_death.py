"""A run whose worker was killed with no resumption left (FAILED `WORKER_DIED`), continued by its user: it goes on
as the same attempt from its thread and checkpoint, to SUCCEEDED, asking the model for no answered turn again."""

from __future__ import annotations

from core.models import Budget, ResumeReason, RunStatus
from core.services.continuation import continue_run
from tests.faults.test_kill_steps import (  # noqa: F401 (scene: a fixture, found by name)
    Scene,
    _wait_for_requests,
    assert_patch_applies,
    finished,
    kill_9,
    scene,
    turns_asked,
)


def test_a_run_killed_past_its_resumptions_is_continued_to_succeeded(scene: Scene) -> None:  # noqa: F811
    # GIVEN resumption off, and a run killed while it waits for its second turn: FAILED WORKER_DIED
    settings = scene.settings.model_copy(update={"max_resumes": 0})
    dispatcher, job_id, turns = scene.start(settings, [scene.make_repo("continued")], held=2)
    _wait_for_requests(scene.model, 2)
    kill_9(dispatcher, job_id)
    died = finished(scene.store, job_id)
    assert died.error is not None and died.error.kind == "WORKER_DIED"
    # WHEN its user continues it, raising no limit
    turns.release.set()
    continue_run(scene.store, dispatcher, died.id, Budget())
    run = finished(scene.store, job_id)
    # THEN it went on as the same attempt from turn 1 to SUCCEEDED, with both turns' edits in a patch that applies
    assert (run.status, run.attempt) == (RunStatus.SUCCEEDED, 1), run.error
    assert [(r.reason, r.from_turn) for r in run.resumptions] == [(ResumeReason.CONTINUED, 1)]
    assert_patch_applies(scene.store, run, scene.workdir)
    # AND turn 1 was asked once; only the cut-off turn 2 was sent again
    assert turns_asked(scene.model) == [1, 2, 2, 3]
