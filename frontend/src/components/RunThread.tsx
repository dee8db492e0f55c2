import { useQuery } from "@apollo/client/react";
import { useEffect } from "react";
import { RUN_THREAD_QUERY } from "../graphql/documents";
import type { RunThreadData } from "../graphql/types";
import { ErrorNotice } from "./ErrorNotice";
import { ThreadViewer } from "./ThreadViewer";

/** The thread of one run, loaded when shown and reloaded whenever the job's cursor moves. */
export function RunThread({ runId, cursor }: { runId: string; cursor: string }) {
  const { data, error, refetch } = useQuery<RunThreadData>(RUN_THREAD_QUERY, {
    variables: { id: runId },
    fetchPolicy: "cache-and-network",
  });
  useEffect(() => {
    void refetch();
  }, [cursor, refetch]);
  if (error) return <ErrorNotice error={error} />;
  const run = data?.run;
  if (!data) return <p className="muted">Loading thread…</p>;
  if (!run?.thread) return <p className="muted">No messages yet.</p>;
  return <ThreadViewer thread={run.thread} id={`thread-${runId}`} />;
}
