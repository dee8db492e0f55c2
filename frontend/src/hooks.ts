import { useEffect, useRef, useState } from "react";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { useApolloClient, useQuery } from "@apollo/client/react";
import { CHECK_REPOSITORIES, JOB_UPDATED, SETTINGS_QUERY } from "./graphql/documents";
import type { JobDetail, RepositoryCheck, ServerSettings } from "./graphql/types";

/** Server settings (allowlist, models, demo...), fetched once per session. */
export function useSettings(): { settings: ServerSettings | undefined; error: Error | undefined } {
  const { data, error } = useQuery<{ settings: ServerSettings }>(SETTINGS_QUERY, { fetchPolicy: "cache-first" });
  return { settings: data?.settings, error };
}

/**
 * The server's answer (`checkRepositories`) for each of `references`, asked once typing pauses for
 * `delayMs`: the form shows the rules of the server, never a copy of them. An entry is undefined
 * until the answer for that very reference has arrived, so a stale answer is never shown.
 */
export function useRepositoryCheck(references: string[], delayMs = 300): (RepositoryCheck | undefined)[] {
  const key = JSON.stringify(references);
  const [asked, setAsked] = useState(key);
  useEffect(() => {
    const timer = setTimeout(() => setAsked(key), delayMs);
    return () => clearTimeout(timer);
  }, [key, delayMs]);
  const repositories = JSON.parse(asked) as string[];
  const { data, previousData } = useQuery(CHECK_REPOSITORIES, {
    variables: { repositories },
    skip: repositories.length === 0,
    fetchPolicy: "network-only",
  });
  const answers = new Map((data ?? previousData)?.checkRepositories.map((check) => [check.reference, check]));
  return references.map((reference) => answers.get(reference));
}

/**
 * Keep a job live through `jobUpdated(id, after)`: results land in the Apollo cache, the last
 * cursor seen is kept, and a dropped subscription is resumed from it, so no change is missed.
 */
export function useJobLive(id: string, initialCursor: string | undefined, retryMs = 2000): { error: string | null } {
  const client = useApolloClient();
  // The last cursor seen, per job: the same page instance may move on to another job.
  const last = useRef<{ id: string; cursor: string | undefined }>({ id, cursor: undefined });
  const [error, setError] = useState<string | null>(null);
  const ready = initialCursor !== undefined;
  if (last.current.id !== id) last.current = { id, cursor: undefined };
  if (last.current.cursor === undefined && ready) last.current.cursor = initialCursor;

  useEffect(() => {
    if (!ready) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let subscription: { unsubscribe(): void } | undefined;
    // One pending resume at a time: a transport failure may arrive both as a result and an error.
    const resume = (delay: number) => {
      if (stopped || timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        subscription?.unsubscribe();
        start();
      }, delay);
    };
    function start() {
      subscription = client
        .subscribe<{ jobUpdated: JobDetail }>({ query: JOB_UPDATED, variables: { id, after: last.current.cursor } })
        .subscribe({
          next: (result) => {
            if (result.error) {
              setError(result.error.message);
              // A GraphQL error (say, an unknown job) stays; a transport error is worth resuming.
              if (!CombinedGraphQLErrors.is(result.error)) resume(retryMs);
              return;
            }
            const job = result.data?.jobUpdated;
            if (job) last.current.cursor = job.cursor;
            setError(null);
          },
          error: (err: Error) => {
            setError(err.message);
            resume(retryMs);
          },
        });
    }
    start();
    return () => {
      stopped = true;
      clearTimeout(timer);
      subscription?.unsubscribe();
    };
  }, [client, id, ready, retryMs]);

  return { error };
}
