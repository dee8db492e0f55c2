// The Apollo Client: HTTP for queries and mutations, graphql-ws for subscriptions.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { relayStylePagination, isSubscriptionOperation } from "@apollo/client/utilities";
import { createClient, type Client } from "graphql-ws";
import { authorization } from "./auth";
import { ConnectionStatus } from "./connection";
import type { RuntimeConfig } from "./config";

export const possibleTypes = {
  CreateJobPayload: ["Job", "InputError"],
  ContentBlock: ["TextBlock", "ToolUseBlock", "ToolResultBlock", "ThinkingBlock"],
};

/** The cache: jobs normalized by id, the jobs connection paginated per status filter. */
export function createCache(): InMemoryCache {
  return new InMemoryCache({
    possibleTypes,
    typePolicies: {
      Query: { fields: { jobs: relayStylePagination(["status"]) } },
      // Tool use ids are Anthropic's, not entities of ours.
      ToolUseBlock: { keyFields: false },
      Usage: { merge: true },
      Patch: { merge: true },
      Thread: { merge: true },
    },
  });
}

export interface ApolloSetup {
  client: ApolloClient;
  wsClient: Client;
  connection: ConnectionStatus;
}

/** Build the client for a runtime config; a reconnect refetches active queries so no change is missed. */
export function createApolloClient(config: RuntimeConfig): ApolloSetup {
  let client: ApolloClient | null = null;
  const connection = new ConnectionStatus();
  const wsClient = createClient({
    url: config.websocketUrl,
    lazy: true,
    keepAlive: 10_000,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    connectionParams: () => {
      const value = authorization();
      return value ? { authorization: value } : {};
    },
    on: {
      connected: (_socket, _payload, wasRetry) => {
        connection.connected();
        if (wasRetry && client) void client.refetchObservableQueries();
      },
      closed: (event) => connection.closed((event as CloseEvent | undefined)?.code === 1000),
    },
  });
  const http = new HttpLink({ uri: config.graphqlUrl });
  const auth = new SetContextLink(({ headers }) => {
    const value = authorization();
    return { headers: value ? { ...headers, authorization: value } : headers };
  });
  const link = ApolloLink.split(
    ({ query }) => isSubscriptionOperation(query),
    new GraphQLWsLink(wsClient),
    auth.concat(http),
  );
  client = new ApolloClient({ link, cache: createCache() });
  return { client, wsClient, connection };
}
