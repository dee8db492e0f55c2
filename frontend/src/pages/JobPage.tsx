import { useMutation, useQuery } from "@apollo/client/react";
import { Link, useParams } from "react-router-dom";
import { ErrorNotice } from "../components/ErrorNotice";
import { RunCard } from "../components/RunCard";
import { StatusBadge } from "../components/StatusBadge";
import { UsageSummary } from "../components/UsageSummary";
import { RetryButton } from "../components/RetryButton";
import { RunIndex } from "../components/RunIndex";
import { PullRequestPanel } from "../components/PullRequestPanel";
import { CANCEL_JOB, JOB_QUERY } from "../graphql/documents";
import type { JobData, JobDetail } from "../graphql/types";
import { useJobLive } from "../hooks";
import { formatTime, humanize } from "../lib/format";
import { retryableRunIds } from "../lib/runs";

/** The job by its id in the URL, kept live. */
export function useLiveJob(): {
  id: string;
  job: JobDetail | null | undefined;
  error: { message: string } | undefined;
} {
  const { id = "" } = useParams();
  const { data, error } = useQuery<JobData>(JOB_QUERY, { variables: { id } });
  const live = useJobLive(id, data?.job?.cursor);
  return { id, job: data?.job, error: error ?? (live.error ? { message: live.error } : undefined) };
}

function JobActions({ job }: { job: JobDetail }) {
  const [cancel, cancelState] = useMutation(CANCEL_JOB, { variables: { id: job.id } });
  const active = job.status === "QUEUED" || job.status === "RUNNING";
  // Failed and cancelled runs by id: the API's default retries failed runs only. Offered while
  // others still run, so one failure need not wait for the slowest repository.
  const retryable = retryableRunIds(job.repositories);
  return (
    <div className="page-actions">
      <Link className="button" to={`/jobs/${job.id}/review`}>
        Review all diffs
      </Link>
      {active && (
        <button
          type="button"
          className="danger"
          disabled={cancelState.loading}
          onClick={() => void cancel().catch(() => null)}
        >
          Cancel
        </button>
      )}
      {retryable.length > 0 && (
        <RetryButton jobId={job.id} runIds={retryable} label={`Retry failed (${retryable.length})`} />
      )}
      <ErrorNotice error={cancelState.error} />
    </div>
  );
}

/** Job detail: header, instruction, then one card per repository. */
export function JobPage() {
  const { id, job, error } = useLiveJob();
  if (job === null) return <ErrorNotice error={`No job with id ${id}.`} />;
  if (!job) return error ? <ErrorNotice error={error} /> : <p className="muted">Loading…</p>;
  return (
    <section aria-labelledby="job-title">
      <div className="page-head">
        <div>
          <h1 id="job-title">{job.title}</h1>
          <p className="job-meta">
            <StatusBadge status={job.status} /> <span className="muted">{humanize(job.kind)}</span>
            <span className="muted"> · {humanize(job.strategy)}</span>
            <span className="muted"> · {humanize(job.output)}</span>
            <span className="muted"> · {job.model}</span>
            <span className="muted"> · created {formatTime(job.createdAt)}</span>
          </p>
          <p>
            <UsageSummary usage={job.usage} label="Job usage" />
          </p>
        </div>
        <JobActions job={job} />
      </div>
      <ErrorNotice error={error} />
      <section className="card instruction" aria-labelledby="instruction-heading">
        <h2 id="instruction-heading">Instruction</h2>
        <p className="prompt">{job.prompt}</p>
      </section>
      <h2>Repositories</h2>
      <PullRequestPanel job={job} />
      {job.repositories.length > 1 && <RunIndex runs={job.repositories} />}
      <div className="runs">
        {job.repositories.map((run) => (
          <RunCard key={run.id} run={run} jobId={job.id} cursor={job.cursor} />
        ))}
      </div>
    </section>
  );
}
