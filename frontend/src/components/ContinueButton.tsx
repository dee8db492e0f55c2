import { useState } from "react";
import { useMutation } from "@apollo/client/react";
import { CONTINUE_RUN } from "../graphql/documents";
import { ErrorNotice } from "./ErrorNotice";

type LimitField = "maxTurns" | "maxTokens" | "maxCostUsd" | "maxJobCostUsd";
type Limit = { field: LimitField; label: string };

/** The limits a stopped run's error names, and the fields that raise them. BUDGET is the run's own token or
 * cost limit (its message says which); the job's cost limit is shared by all its runs, so raising the run's own
 * would stop it again at once. A run stopped by its time limit, or failed once its worker or server died past
 * the server's own resumptions, goes on with its limits (none to fill in). */
const LIMITS: Record<string, Limit[]> = {
  TURN_LIMIT: [{ field: "maxTurns", label: "Max turns" }],
  BUDGET: [
    { field: "maxTokens", label: "Max tokens" },
    { field: "maxCostUsd", label: "Max cost (USD)" },
  ],
  JOB_BUDGET: [{ field: "maxJobCostUsd", label: "Job cost limit (USD, all its runs)" }],
  TIMEOUT: [],
  INTERRUPTED: [],
  WORKER_DIED: [],
};

/** Whether a run's error is one it can be continued past (a limit, or a death past its resumptions). */
export function isContinuable(kind: string | undefined): boolean {
  return kind !== undefined && kind in LIMITS;
}

/** The mutation's variables: the job's limit is an argument of its own, the run's limits go in `budget`. */
function continueVariables(runId: string, values: Partial<Record<LimitField, string>>) {
  const given = Object.entries(values).filter(([, value]) => value?.trim());
  const budget = Object.fromEntries(
    given.filter(([field]) => field !== "maxJobCostUsd").map(([field, value]) => [field, Number(value)]),
  );
  const job = values.maxJobCostUsd?.trim();
  return job ? { runId, budget, maxJobCostUsd: Number(job) } : { runId, budget };
}

/** Continue a stopped run as the same attempt (with the limit that stopped it raised); the updated job lands in the cache. */
export function ContinueButton({ runId, kind }: { runId: string; kind: string }) {
  const limits = LIMITS[kind] ?? [];
  const [values, setValues] = useState<Partial<Record<LimitField, string>>>({});
  const [continueRun, state] = useMutation(CONTINUE_RUN);
  const refused = state.data?.continueRun.__typename === "InputError" ? state.data.continueRun.message : null;
  const raised = limits.some(({ field }) => values[field]?.trim());
  return (
    <span className="continue-run">
      {limits.map(({ field, label }) => (
        <label key={field}>
          {label}{" "}
          <input
            type="number"
            min={field === "maxTurns" || field === "maxTokens" ? 1 : 0}
            step={field === "maxTurns" || field === "maxTokens" ? 1 : "any"}
            value={values[field] ?? ""}
            onChange={(event) => setValues({ ...values, [field]: event.target.value })}
          />
        </label>
      ))}
      <button
        type="button"
        disabled={state.loading || (limits.length > 0 && !raised)}
        onClick={() => void continueRun({ variables: continueVariables(runId, values) }).catch(() => null)}
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
