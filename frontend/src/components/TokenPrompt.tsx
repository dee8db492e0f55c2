import { useState, type FormEvent } from "react";
import { getToken, setToken } from "../auth";

/** True for an Apollo error caused by a 401 answer. */
export function isUnauthorized(error: unknown): boolean {
  const status = (error as { statusCode?: number } | null)?.statusCode;
  return status === 401 || /\b401\b|unauthori[sz]ed/i.test(String((error as Error)?.message ?? ""));
}

/** Ask for the server's API token and keep it in this browser. */
export function TokenPrompt() {
  const [value, setValue] = useState(getToken() ?? "");
  const save = (event: FormEvent) => {
    event.preventDefault();
    setToken(value.trim() || null);
    window.location.reload();
  };
  return (
    <form className="token-prompt card" onSubmit={save}>
      <p>This server requires an API token.</p>
      <label htmlFor="api-token">API token</label>
      <input
        id="api-token"
        type="password"
        autoComplete="off"
        value={value}
        onChange={(e) => setValue(e.target.value)}
      />
      <button type="submit">Save token</button>
    </form>
  );
}
