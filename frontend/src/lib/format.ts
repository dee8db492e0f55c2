import type { Usage } from "../graphql/types";

/** "$0.0123" — small costs keep their significant digits. */
export function formatCost(usd: number): string {
  if (usd === 0) return "$0.00";
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

/** "12.3k" style token counts. */
export function formatTokens(count: number): string {
  if (count < 1000) return String(count);
  if (count < 1_000_000) return `${(count / 1000).toFixed(1)}k`;
  return `${(count / 1_000_000).toFixed(2)}M`;
}

export function totalTokens(usage: Usage): number {
  return usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
}

/** Local date and time of an ISO timestamp; empty for null. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** "RUNNING_AGENT" -> "running agent". */
export function humanize(value: string): string {
  return value.toLowerCase().replace(/_/g, " ");
}

/** "CONTEXT_OVERFLOW" -> "Context overflow": a code read as words, for headings and labels. */
export function sentence(value: string): string {
  const words = humanize(value);
  return words.charAt(0).toUpperCase() + words.slice(1);
}
