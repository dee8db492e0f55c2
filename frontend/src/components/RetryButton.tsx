import { useMutation } from "@apollo/client/react";
import { RETRY_REPOSITORIES } from "../graphql/documents";
import { ErrorNotice } from "./ErrorNotice";

/** Start a new attempt of some runs of a job; the updated job lands in the cache. */
export function RetryButton({ jobId, runIds, label }: { jobId: string; runIds: string[]; label: string }) {
  const [retry, state] = useMutation(RETRY_REPOSITORIES, { variables: { jobId, runIds } });
  return (
    <>
      <button type="button" disabled={state.loading} onClick={() => void retry().catch(() => null)}>
        {label}
      </button>
      <ErrorNotice error={state.error} />
    </>
  );
}
