import { useState } from "react";
import { useMutation } from "@apollo/client/react";
import { CONTINUE_RUN } from "../graphql/documents";
import { ErrorNotice } from "./ErrorNotice";

/** The limit a stopped run's error names, and the budget field that raises it (TIMEOUT needs none). */
const LIMITS: Record<string, { field: "maxTurns" | "maxCostUsd"; label: string } | null> = {
  TURN_LIMIT: { field: "maxTurns", label: "Max turns" },
  BUDGET: { field: "maxCostUsd", label: "Max cost (USD)" },
  TIMEOUT: null,
};

/** Whether a run's error is a limit it can be continued past. */
export function isContinuable(kind: string | undefined): boolean {
  return kind !== undefined && kind in LIMITS;
}

/** Continue a run a limit stopped, as the same attempt, with that limit raised; the updated job lands in the cache. */
export function ContinueButton({ runId, kind }: { runId: string; kind: string }) {
  const limit = LIMITS[kind] ?? null;
  const [value, setValue] = useState("");
  const [continueRun, state] = useMutation(CONTINUE_RUN);
  const refused = state.data?.continueRun.__typename === "InputError" ? state.data.continueRun.message : null;
  const budget = limit && value.trim() ? { [limit.field]: Number(value) } : {};
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
        onClick={() => void continueRun({ variables: { runId, budget } }).catch(() => null)}
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
