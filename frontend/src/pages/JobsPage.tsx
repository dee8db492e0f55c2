import { useQuery, useSubscription } from "@apollo/client/react";
import { Link, useSearchParams } from "react-router-dom";
import { ColumnHeads } from "../components/ColumnHeads";
import { EnumSelect } from "../components/EnumSelect";
import { ErrorNotice } from "../components/ErrorNotice";
import { StatusBadge } from "../components/StatusBadge";
import { JOBS_QUERY, JOBS_UPDATED } from "../graphql/documents";
import { JOB_STATUSES, type JobListItem, type JobsData } from "../graphql/types";
import { formatCost, formatTime } from "../lib/format";

const PAGE_SIZE = 20;

/** All jobs, newest first, live, filterable by status, paginated with "Load more". */
export function JobsPage() {
  const [params, setParams] = useSearchParams();
  // A status the schema does not know filters nothing (rather than sending the server a bad enum).
  const status = JOB_STATUSES.find((known) => known === params.get("status")) ?? null;
  const { data, error, loading, fetchMore, refetch } = useQuery<JobsData>(JOBS_QUERY, {
    variables: { first: PAGE_SIZE, status },
    notifyOnNetworkStatusChange: true,
  });
  const edges = data?.jobs.edges ?? [];
  const known = new Set(edges.map((edge) => edge.node.id));

  // Updates of listed jobs land in the cache by id; a job we don't list yet means a new page 1.
  // Listening starts once the first page is in, so "not listed" means new, not "not loaded yet".
  useSubscription<{ jobsUpdated: JobListItem }>(JOBS_UPDATED, {
    skip: !data,
    onData: ({ data: event }) => {
      const job = event.data?.jobsUpdated;
      if (job && !known.has(job.id) && (!status || job.status === status)) void refetch();
    },
  });

  const pageInfo = data?.jobs.pageInfo;
  return (
    <section aria-labelledby="jobs-heading">
      <div className="page-head">
        <h1 id="jobs-heading">Jobs</h1>
        <div className="page-actions">
          <label htmlFor="status-filter">Status</label>
          <EnumSelect
            id="status-filter"
            values={JOB_STATUSES}
            value={status}
            onChange={(chosen) => setParams(chosen ? { status: chosen } : {})}
            anyLabel="All"
          />
          <Link className="button primary" to="/jobs/new">
            New job
          </Link>
        </div>
      </div>
      <ErrorNotice error={error} />
      {data && edges.length === 0 && (
        <p className="empty">
          No jobs yet. <Link to="/jobs/new">Create the first one</Link>.
        </p>
      )}
      {edges.length > 0 && (
        <table className="jobs-table">
          <ColumnHeads names={["Job", "Status", "Repositories", "Cost", "Created"]} />
          <tbody>
            {edges.map(({ node }) => (
              <tr key={node.id} data-job-id={node.id}>
                <td>
                  <Link to={`/jobs/${node.id}`}>{node.title}</Link>
                </td>
                <td>
                  <StatusBadge status={node.status} />
                </td>
                <td className="num">{node.repositories.length}</td>
                <td className="num">{formatCost(node.usage.costUsd)}</td>
                <td>
                  <time dateTime={node.createdAt}>{formatTime(node.createdAt)}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {pageInfo?.hasNextPage && (
        <button
          type="button"
          disabled={loading}
          onClick={() => void fetchMore({ variables: { after: pageInfo.endCursor } })}
        >
          Load more
        </button>
      )}
      {loading && !data && <p className="muted">Loading…</p>}
    </section>
  );
}
