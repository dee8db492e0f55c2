import { useQuery } from "@apollo/client/react";
import { useEffect } from "react";
import { RUN_THREADS_QUERY } from "../graphql/documents";
import type { RunThreadsData } from "../graphql/types";
import { ErrorNotice } from "./ErrorNotice";
import { ThreadViewer } from "./ThreadViewer";

/** The thread of one run, loaded when shown and reloaded whenever the job's cursor moves. */
export function RunThread({ jobId, runId, cursor }: { jobId: string; runId: string; cursor: string }) {
  const { data, error, refetch } = useQuery<RunThreadsData>(RUN_THREADS_QUERY, {
    variables: { id: jobId },
    fetchPolicy: "cache-and-network",
  });
  useEffect(() => {
    void refetch();
  }, [cursor, refetch]);
  if (error) return <ErrorNotice error={error} />;
  const run = data?.job?.repositories.find((r) => r.id === runId);
  if (!data) return <p className="muted">Loading thread…</p>;
  if (!run?.thread) return <p className="muted">No messages yet.</p>;
  return <ThreadViewer thread={run.thread} />;
}
