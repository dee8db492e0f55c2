// Runtime configuration: the server says where its GraphQL endpoints are in /config.json.

export interface RuntimeConfig {
  graphqlUrl: string;
  websocketUrl: string;
}

/** Same-origin endpoints, used when /config.json is missing or malformed. */
export function defaultConfig(location: Location = window.location): RuntimeConfig {
  const wsScheme = location.protocol === "https:" ? "wss:" : "ws:";
  return {
    graphqlUrl: `${location.origin}/graphql`,
    websocketUrl: `${wsScheme}//${location.host}/graphql`,
  };
}

/** Fetch /config.json, falling back to same-origin defaults. */
export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<RuntimeConfig> {
  const fallback = defaultConfig();
  try {
    const response = await fetchImpl("/config.json", { headers: { accept: "application/json" } });
    if (!response.ok) return fallback;
    const body = (await response.json()) as Partial<RuntimeConfig>;
    return {
      graphqlUrl: typeof body.graphqlUrl === "string" ? body.graphqlUrl : fallback.graphqlUrl,
      websocketUrl: typeof body.websocketUrl === "string" ? body.websocketUrl : fallback.websocketUrl,
    };
  } catch {
    return fallback;
  }
}
