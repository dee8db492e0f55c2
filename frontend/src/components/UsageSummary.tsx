import type { Usage } from "../graphql/types";
import { formatCost, formatTokens } from "../lib/format";

/** Tokens by kind and cost, in one line. */
export function UsageSummary({ usage, label = "Usage" }: { usage: Usage; label?: string }) {
  return (
    <span className="usage" aria-label={label}>
      <span title="input tokens">in {formatTokens(usage.inputTokens)}</span>
      <span title="output tokens">out {formatTokens(usage.outputTokens)}</span>
      {usage.cacheReadTokens + usage.cacheWriteTokens > 0 && (
        <span title="cache read / write tokens">
          cache {formatTokens(usage.cacheReadTokens)}/{formatTokens(usage.cacheWriteTokens)}
        </span>
      )}
      <strong className="cost">{formatCost(usage.costUsd)}</strong>
    </span>
  );
}
