import type { RepositoryRun } from "../graphql/types";
import { formatTime, sentence } from "../lib/format";
import { StatusBadge } from "./StatusBadge";
import { UsageSummary } from "./UsageSummary";

type Resumption = RepositoryRun["resumptions"][number];

/** One time an attempt went on from its stored thread and checkpoint: how, from which turn, when, why. */
function ResumptionEntry({ resumption }: { resumption: Resumption }) {
  const how = resumption.reason === "CONTINUED" ? "Continued" : "Resumed";
  return (
    <li className="history-resumption">
      {how} from turn {resumption.fromTurn} at <time dateTime={resumption.at}>{formatTime(resumption.at)}</time>
      {resumption.cause && <span className="muted"> — {resumption.cause}</span>}
    </li>
  );
}

/** The run's history, oldest first: each attempt with its outcome, and each time it went on instead of
 * starting over (resumed after its worker or server stopped, or continued past a limit). Shown once there
 * is more than the one attempt as it started. */
export function RunHistory({ run }: { run: RepositoryRun }) {
  if (run.attempts.length === 0 && run.resumptions.length === 0) return null;
  const attempts = [...run.attempts, { ...run, error: run.error ?? null }];
  return (
    <section className="run-history" aria-label={`History of ${run.location}`}>
      <h4>History</h4>
      <ol>
        {attempts.map((a) => (
          <li key={a.attempt} className="history-attempt">
            Attempt {a.attempt}
            {a.startedAt && <> started {formatTime(a.startedAt)}</>}: <StatusBadge status={a.status} />
            {a.attempt !== run.attempt && a.error && (
              <span>
                {" "}
                {sentence(a.error.kind)}: {a.error.message}
              </span>
            )}{" "}
            <UsageSummary usage={a.usage} label={`Usage of attempt ${a.attempt}`} />
            {a.resumptions.length > 0 && (
              <ol>
                {a.resumptions.map((r) => (
                  <ResumptionEntry key={r.at} resumption={r} />
                ))}
              </ol>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
