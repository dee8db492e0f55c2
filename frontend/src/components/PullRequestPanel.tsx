import { useMutation } from "@apollo/client/react";
import { useState } from "react";
import { PULL_REQUEST_ACTION, REFRESH_PULL_REQUESTS } from "../graphql/documents";
import {
  PULL_REQUEST_STATES,
  type ActionResult,
  type JobDetail,
  type PullRequestAction,
  type PullRequestState,
  type PullRequestTally,
} from "../graphql/types";
import { formatTime, humanize } from "../lib/format";
import { ColumnHeads } from "./ColumnHeads";
import { EnumSelect } from "./EnumSelect";
import { ErrorNotice } from "./ErrorNotice";

const ACTIONS: { action: PullRequestAction; label: string }[] = [
  { action: "PUBLISH", label: "Publish" },
  { action: "COMMENT", label: "Comment" },
  { action: "MERGE", label: "Merge" },
  { action: "CLOSE", label: "Close" },
  { action: "DELETE_BRANCH", label: "Delete branch" },
];

/** The job's pull requests by state, as one line of counts. */
export function PullRequestBar({ tally }: { tally: PullRequestTally }) {
  const parts: [string, number, string][] = [
    ["merged", tally.merged, "pr-merged"],
    ["open", tally.open, "pr-open"],
    ["draft", tally.draft, "pr-draft"],
    ["closed", tally.closed, "pr-closed"],
    ["failing checks", tally.checksFailing, "pr-failing"],
  ];
  return (
    <p className="pr-bar" aria-label="Pull request tally">
      {parts.map(([label, count, style]) => (
        <span key={label} className={`pr-count ${style}`}>
          {count} {label}
        </span>
      ))}
    </p>
  );
}

/** A pull request's state as a badge. */
export function PullRequestStateBadge({ state }: { state: PullRequestState }) {
  return <span className={`badge pr-${state.toLowerCase()}`}>{humanize(state)}</span>;
}

/** Every pull request of the job: filter by state, select, act on the selection after a dry run. */
export function PullRequestPanel({ job }: { job: JobDetail }) {
  const [filter, setFilter] = useState<PullRequestState | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [comment, setComment] = useState("");
  const [pending, setPending] = useState<{ action: PullRequestAction; preview: ActionResult[] } | null>(null);
  const [done, setDone] = useState<ActionResult[] | null>(null);
  const [refresh, refreshState] = useMutation(REFRESH_PULL_REQUESTS, { variables: { jobId: job.id } });
  const [act, actState] = useMutation(PULL_REQUEST_ACTION);
  const runs = job.repositories.filter((run) => run.pullRequest);
  if (runs.length === 0) return null;
  const shown = runs.filter((run) => filter === null || run.pullRequest!.state === filter);
  const runIds = [...selected];

  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const ask = async (action: PullRequestAction) => {
    setDone(null);
    const variables = { jobId: job.id, action, runIds, comment: comment || null, dryRun: true };
    const result = await act({ variables }).catch(() => null);
    if (result?.data) setPending({ action, preview: result.data.pullRequestAction });
  };
  const confirm = async () => {
    if (!pending) return;
    const variables = { jobId: job.id, action: pending.action, runIds, comment: comment || null, dryRun: false };
    const result = await act({ variables }).catch(() => null);
    setPending(null);
    if (result?.data) setDone(result.data.pullRequestAction);
  };

  return (
    <section className="card pull-requests" aria-labelledby="pull-requests-heading">
      <div className="page-head">
        <h2 id="pull-requests-heading">Pull requests</h2>
        <button type="button" disabled={refreshState.loading} onClick={() => void refresh().catch(() => null)}>
          Refresh from GitHub
        </button>
      </div>
      <PullRequestBar tally={job.pullRequests} />
      <label>
        Show <EnumSelect values={PULL_REQUEST_STATES} value={filter} onChange={setFilter} anyLabel="all" />
      </label>
      <table className="pr-table">
        <ColumnHeads names={["Select", "Repository", "State", "Checks", "Review", "Synced"]} />
        <tbody>
          {shown.map((run) => {
            const pr = run.pullRequest!;
            return (
              <tr key={run.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select ${run.location}`}
                    checked={selected.has(run.id)}
                    onChange={() => toggle(run.id)}
                  />
                </td>
                <td>
                  <a href={pr.url} target="_blank" rel="noreferrer">
                    {run.location} #{pr.number}
                  </a>
                </td>
                <td>
                  <PullRequestStateBadge state={pr.state} />
                </td>
                <td className={`checks-${pr.checks.toLowerCase()}`}>{humanize(pr.checks)}</td>
                <td>{humanize(pr.reviewDecision)}</td>
                <td className="muted">{pr.syncedAt ? formatTime(pr.syncedAt) : "not yet"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="page-actions">
        <input
          aria-label="Comment"
          placeholder="Comment (for Comment)"
          value={comment}
          onChange={(e) => setComment(e.target.value)}
        />
        {ACTIONS.map(({ action, label }) => (
          <button
            key={action}
            type="button"
            disabled={selected.size === 0 || actState.loading || (action === "COMMENT" && !comment.trim())}
            onClick={() => void ask(action)}
          >
            {label} ({selected.size})
          </button>
        ))}
      </div>
      {pending && (
        <div role="dialog" aria-label="Confirm" className="card confirm">
          <p>{humanize(pending.action)}: what will happen</p>
          <ResultList results={pending.preview} />
          <button type="button" className="danger" disabled={actState.loading} onClick={() => void confirm()}>
            Confirm
          </button>
          <button type="button" onClick={() => setPending(null)}>
            Cancel
          </button>
        </div>
      )}
      {done && <ResultList results={done} />}
      <ErrorNotice error={refreshState.error ?? actState.error} />
    </section>
  );
}

function ResultList({ results }: { results: ActionResult[] }) {
  return (
    <ul className="pr-results">
      {results.map((r) => (
        <li key={r.runId} className={`outcome-${r.outcome.toLowerCase()}`}>
          {r.location}: {humanize(r.outcome)} — {r.message}
        </li>
      ))}
    </ul>
  );
}
