// Optional bearer token (CODY_BATCH_API_TOKEN on the server), kept in this browser only.

const KEY = "cody-batch.api-token";

export function getToken(): string | null {
  try {
    return window.localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  if (token) window.localStorage.setItem(KEY, token);
  else window.localStorage.removeItem(KEY);
}

/** Authorization header value, when a token is stored. */
export function authorization(): string | null {
  const token = getToken();
  return token ? `Bearer ${token}` : null;
}
