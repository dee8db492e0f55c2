import type { RepositoryRun } from "../graphql/types";
import { humanize } from "../lib/format";
import { repositoryName, statusTally } from "../lib/runs";
import { StatusBadge } from "./StatusBadge";

/** "2 succeeded · 1 failed" and a link to each repository's card: a many-repository job at a glance. */
export function RunIndex({ runs }: { runs: RepositoryRun[] }) {
  const tally = statusTally(runs);
  return (
    <nav className="run-index" aria-label="Repositories of this job">
      <p className="tally" aria-live="polite">
        {tally.map(({ status, count }, i) => (
          <span key={status} data-tally={status}>
            {i > 0 && " · "}
            {count} {humanize(status)}
          </span>
        ))}
      </p>
      <ol>
        {runs.map((run) => (
          <li key={run.id}>
            <a href={`#run-${run.id}`} title={run.location}>
              {repositoryName(run.location)}
            </a>{" "}
            <StatusBadge status={run.status} step={run.step} />
          </li>
        ))}
      </ol>
    </nav>
  );
}
