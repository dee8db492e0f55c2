"""The schedule's sweep of Batch submissions: every one nobody holds is submitted, or failed past its deadline.

It also takes the runs a dispatch made PENDING and then never reached: the job, retry or continue
write is core code that knows nothing of Batch, so the dispatcher's pending submission is a second
write, and a function that dies between the two leaves runs PENDING with neither a Batch job nor a
submission (`stranded`). A run is briefly in that state between any such pair of writes, also a Batch
child's that resumes its run in place and then names itself. So the sweep only holds stranded runs (a
pending submission claimed in its name) and submits nothing for them in that round: their claim
expires before the next round, which submits them unless the writer that was still between its two
writes went on. A dispatcher then finds its runs held and leaves them to the sweep; a child names
itself, which ends the pending submission. Both writes are conditional on the same versions, so
nothing is ever submitted twice, and a run stranded by a dead function is submitted within two rounds.
"""

from __future__ import annotations

import logging

from core.services.recovery import unfinished_job_ids
from server.aws.batch_submission import Submitter, stranded, waits_for

logger = logging.getLogger(__name__)

HELD = "held, with no Batch job and nobody submitting one: the next round submits it unless its writer goes on"


def sweep(submitter: Submitter) -> dict[str, str]:
    """Submit every pending submission nobody holds, and hold the stranded runs for the next round; past the
    deadline, fail the runs Batch still refuses. What was done, by run id."""
    done: dict[str, str] = {}
    for job_id in unfinished_job_ids(submitter.store):
        try:
            done.update(_sweep_job(submitter, job_id))
        except Exception:  # one job's trouble (a store error) must not hold the others back
            logger.exception("could not sweep job %s; the next round tries again", job_id)
    return done


def _sweep_job(submitter: Submitter, job_id: str) -> dict[str, str]:
    runs = submitter.store.get_runs([job_id]).get(job_id, [])
    done: dict[str, str] = {}
    never = [run.index for run in runs if stranded(run)]
    held = submitter.hold(job_id, never) if never else None
    if held is not None:
        logger.warning(
            "runs %s of job %s have no Batch job and nobody submitting one; held for the next round", never, job_id
        )
        done.update({run.id: HELD for run in runs if run.index in held.runs})
    tokens = dict.fromkeys(run.batch_submission.token for run in runs if run.batch_submission is not None)
    for token in tokens:
        claimed = submitter.claim(job_id, token)
        if claimed is not None:
            what = submitter.attempt(job_id, claimed)
            done.update({run.id: what for run in runs if waits_for(run, token)})
    return done
