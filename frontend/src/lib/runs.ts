// What a job's runs add up to: which can be retried, how many are in each state.
import type { RepositoryRun, RunStatus, ValidationCheck } from "../graphql/types";

const RETRYABLE: ReadonlySet<string> = new Set<RunStatus>(["FAILED", "CANCELLED"]);
const FINISHED: ReadonlySet<string> = new Set<RunStatus>(["SUCCEEDED", "NO_CHANGES", "FAILED", "CANCELLED"]);

// The order a reader wants the tally in: trouble first, then work in flight, then outcomes.
const TALLY_ORDER: RunStatus[] = [
  "FAILED",
  "CANCELLED",
  "PENDING",
  "CLONING",
  "RUNNING_AGENT",
  "VALIDATING",
  "PUBLISHING",
  "SUCCEEDED",
  "NO_CHANGES",
];

/** Ids of the runs a retry should start again: failed or cancelled ones (each finished). */
export function retryableRunIds(runs: Pick<RepositoryRun, "id" | "status">[]): string[] {
  return runs.filter((run) => RETRYABLE.has(run.status)).map((run) => run.id);
}

/** Whether a run can be retried on its own. */
export function isRetryable(status: string): boolean {
  return RETRYABLE.has(status);
}

/** Whether a run has reached a final status (its step no longer changes). */
export function isFinished(status: string): boolean {
  return FINISHED.has(status);
}

/** Count of runs per status, non-zero only, in reading order. */
export function statusTally(runs: Pick<RepositoryRun, "status">[]): { status: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const run of runs) counts.set(run.status, (counts.get(run.status) ?? 0) + 1);
  const known = TALLY_ORDER.filter((s) => counts.has(s));
  const other = [...counts.keys()].filter((s) => !TALLY_ORDER.includes(s as RunStatus));
  return [...known, ...other].map((status) => ({ status, count: counts.get(status)! }));
}

/** The checks worth showing one by one (anything not passed) and how many passed. */
export function splitChecks(checks: ValidationCheck[]): { passed: number; notable: ValidationCheck[] } {
  const notable = checks.filter((c) => c.status !== "PASSED");
  return { passed: checks.length - notable.length, notable };
}

/** The last path segment of a repository location: "org/name" or ".../name" -> "name". */
export function repositoryName(location: string): string {
  const trimmed = location.replace(/\/+$/, "").replace(/\.git$/, "");
  return trimmed.split("/").pop() || location;
}
