import { useState } from "react";
import { useMutation } from "@apollo/client/react";
import { CONTINUE_RUN } from "../graphql/documents";
import { ErrorNotice } from "./ErrorNotice";

type LimitField = "maxTurns" | "maxCostUsd" | "maxJobCostUsd";

/** The limit a stopped run's error names, and the field that raises it. The job's cost limit is shared by
 * all its runs: raising the run's own would stop it again at once. A run stopped by its time limit, or failed
 * once its worker or server died past the server's own resumptions, goes on with its limits (none to fill in). */
const LIMITS: Record<string, { field: LimitField; label: string } | null> = {
  TURN_LIMIT: { field: "maxTurns", label: "Max turns" },
  BUDGET: { field: "maxCostUsd", label: "Max cost (USD)" },
  JOB_BUDGET: { field: "maxJobCostUsd", label: "Job cost limit (USD, all its runs)" },
  TIMEOUT: null,
  INTERRUPTED: null,
  WORKER_DIED: null,
};

/** The mutation's variables: the job's limit is an argument of its own, the run's limits go in `budget`. */
function continueVariables(runId: string, field: LimitField | undefined, value: string) {
  if (field === undefined || !value.trim()) return { runId, budget: {} };
  if (field === "maxJobCostUsd") return { runId, budget: {}, maxJobCostUsd: Number(value) };
  return { runId, budget: { [field]: Number(value) } };
}

/** Whether a run's error is one it can be continued past (a limit, or a death past its resumptions). */
export function isContinuable(kind: string | undefined): boolean {
  return kind !== undefined && kind in LIMITS;
}

/** Continue a stopped run as the same attempt (with the limit that stopped it raised); the updated job lands in the cache. */
export function ContinueButton({ runId, kind }: { runId: string; kind: string }) {
  const limit = LIMITS[kind] ?? null;
  const [value, setValue] = useState("");
  const [continueRun, state] = useMutation(CONTINUE_RUN);
  const refused = state.data?.continueRun.__typename === "InputError" ? state.data.continueRun.message : null;
  const variables = continueVariables(runId, limit?.field, value);
  return (
    <span className="continue-run">
      {limit && (
        <label>
          {limit.label}{" "}
          <input
            type="number"
            min={limit.field === "maxTurns" ? 1 : 0}
            step={limit.field === "maxTurns" ? 1 : "any"}
            value={value}
            onChange={(event) => setValue(event.target.value)}
          />
        </label>
      )}
      <button
        type="button"
        disabled={state.loading || (limit !== null && !value.trim())}
        onClick={() => void continueRun({ variables }).catch(() => null)}
      >
        Continue
      </button>
      {refused && (
        <span className="run-error" role="alert">
          {refused}
        </span>
      )}
      <ErrorNotice error={state.error} />
    </span>
  );
}
