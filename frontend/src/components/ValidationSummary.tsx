import type { Validation } from "../graphql/types";
import { humanize } from "../lib/format";
import { splitChecks } from "../lib/runs";

/** The verdict, a count of passed checks, and each check that did not pass with its output. */
export function ValidationSummary({ validation }: { validation: Validation }) {
  const { passed, notable } = splitChecks(validation.checks);
  return (
    <div className="validation">
      <p>
        Validation: <strong>{humanize(validation.verdict)}</strong>
        {passed > 0 && (
          <span className="muted">
            {" "}
            · {passed} {passed === 1 ? "check" : "checks"} passed
          </span>
        )}
      </p>
      {notable.length > 0 && (
        <ul className="checks">
          {notable.map((check) => (
            <li key={check.name} data-check-status={check.status}>
              <span className={`check-status check-${check.status.toLowerCase()}`}>{humanize(check.status)}</span>{" "}
              <span className="check-name">{check.name}</span>
              {check.preExisting && <span className="muted"> (failed before the change too)</span>}
              {check.output && (
                <details>
                  <summary>Output</summary>
                  <pre>{check.output}</pre>
                </details>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
