import type { CommandIsolation } from "../graphql/types";

/** What of the worker's machine the run's commands could reach: one plain line when isolated, else a warning. */
export function CommandIsolationNote({ isolation }: { isolation: CommandIsolation }) {
  const missing = [!isolation.filesystem && "filesystem", !isolation.network && "network"].filter(Boolean);
  if (missing.length === 0) {
    return <p className="command-isolation muted">Commands ran isolated (filesystem and network)</p>;
  }
  return (
    <p className="command-isolation command-isolation-missing">
      Commands ran without {missing.join(" or ")} isolation{isolation.reason && `: ${isolation.reason}`}
    </p>
  );
}
