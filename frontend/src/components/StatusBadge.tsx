import type { AnyStatus } from "../graphql/types";
import { humanize } from "../lib/format";

// One tone per status, shared by jobs and runs, so a colour always means the same thing.
const TONES: Record<AnyStatus, "neutral" | "active" | "success" | "warning" | "danger" | "muted"> = {
  QUEUED: "neutral",
  PENDING: "neutral",
  RUNNING: "active",
  CLONING: "active",
  RUNNING_AGENT: "active",
  VALIDATING: "active",
  PUBLISHING: "active",
  SUCCEEDED: "success",
  NO_CHANGES: "muted",
  PARTIAL: "warning",
  FAILED: "danger",
  CANCELLED: "muted",
};

export function statusTone(status: string): string {
  return TONES[status as AnyStatus] ?? "neutral";
}

/** A coloured, labelled badge for a job or run status. */
export function StatusBadge({ status, step }: { status: string; step?: string | null }) {
  const tone = statusTone(status);
  const live = tone === "active";
  return (
    <span className={`badge badge-${tone}`} data-status={status} title={step ? `step: ${step}` : undefined}>
      {live && <span className="pulse" aria-hidden="true" />}
      {humanize(status)}
    </span>
  );
}
