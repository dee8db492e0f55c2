"""The schedule's sweep of Batch submissions: every one nobody holds is submitted, or failed past its deadline.

It also takes the runs a dispatch made PENDING and then never reached: the job, retry or continue
write is core code that knows nothing of Batch, so the dispatcher's pending submission is a second
write, and a function that dies between the two leaves runs PENDING with neither a Batch job nor a
submission. On AWS no run is in that state for longer than those two writes take, so the sweep gives
such runs a submission of its own. A dispatcher still alive then finds its runs held or submitted and
leaves them (its write and the sweep's are conditional on the same versions): nothing is submitted twice.
"""

from __future__ import annotations

import logging

from core.services.recovery import unfinished_job_ids
from server.aws.batch_submission import Submitter, stranded, waits_for

logger = logging.getLogger(__name__)


def sweep(submitter: Submitter) -> dict[str, str]:
    """Submit every pending submission nobody holds (stranded runs first given one); past the deadline, fail
    the runs Batch still refuses. What was done, by run id."""
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
    adopted = submitter.hold(job_id, never) if never else None
    if adopted is not None:
        logger.warning("runs %s of job %s were never submitted to AWS Batch; submitting them", never, job_id)
        what = submitter.attempt(job_id, adopted, fresh=True)
        done.update({run.id: what for run in runs if run.index in adopted.runs})
    tokens = dict.fromkeys(run.batch_submission.token for run in runs if run.batch_submission is not None)
    for token in tokens:
        claimed = submitter.claim(job_id, token)
        if claimed is not None:
            what = submitter.attempt(job_id, claimed)
            done.update({run.id: what for run in runs if waits_for(run, token)})
    return done
