// The live connection's state, for telling the user when updates have stopped arriving.
import { createContext, useContext, useSyncExternalStore } from "react";

export type ConnectionState = "idle" | "connected" | "lost";

/** A tiny store: the WebSocket client reports into it, components read it. */
export class ConnectionStatus {
  private state: ConnectionState = "idle";
  private listeners = new Set<() => void>();

  get = (): ConnectionState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  connected(): void {
    this.set("connected");
  }

  /** A socket closed; only a connection that had been up counts as lost (lazy sockets close when idle). */
  closed(wasClean: boolean): void {
    if (this.state === "connected" && !wasClean) this.set("lost");
  }

  private set(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.listeners.forEach((listener) => listener());
  }
}

export const ConnectionContext = createContext<ConnectionStatus | null>(null);

/** The live connection's state ("idle" where no status is provided, e.g. in tests). */
export function useConnectionState(): ConnectionState {
  const status = useContext(ConnectionContext);
  return useSyncExternalStore(status?.subscribe ?? (() => () => undefined), status?.get ?? (() => "idle" as const));
}
