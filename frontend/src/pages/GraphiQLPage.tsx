// Loaded on demand (code split): GraphiQL and Monaco are large, and only this page needs them.
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { useMemo } from "react";
import { authorization } from "../auth";
import { useRuntimeConfig } from "../context";

const DEFAULT_QUERY = `# Cody Batch GraphQL API. Subscriptions run over the WebSocket endpoint.
query RecentJobs {
  jobs(first: 10) {
    edges {
      node {
        id
        title
        status
        repositories { location status step }
      }
    }
  }
}
`;

/** The bundled GraphiQL IDE, talking to the configured HTTP and WebSocket endpoints. */
export default function GraphiQLPage() {
  const config = useRuntimeConfig();
  const fetcher = useMemo(() => {
    const auth = authorization();
    return createGraphiQLFetcher({
      url: config.graphqlUrl,
      subscriptionUrl: config.websocketUrl,
      headers: auth ? { authorization: auth } : undefined,
      wsConnectionParams: auth ? { authorization: auth } : undefined,
    });
  }, [config]);
  return (
    <div className="graphiql-page">
      <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} />
    </div>
  );
}
