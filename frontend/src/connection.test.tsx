import { act, render, screen } from "@testing-library/react";
import { ConnectionContext, ConnectionStatus, useConnectionState } from "./connection";

function Probe() {
  return <p>state: {useConnectionState()}</p>;
}

describe("ConnectionStatus", () => {
  it("GIVEN a connection that was up WHEN it drops abnormally THEN it is lost until it reconnects", () => {
    const status = new ConnectionStatus();
    render(
      <ConnectionContext.Provider value={status}>
        <Probe />
      </ConnectionContext.Provider>,
    );
    expect(screen.getByText("state: idle")).toBeInTheDocument();
    act(() => status.connected());
    expect(screen.getByText("state: connected")).toBeInTheDocument();
    act(() => status.closed(false));
    expect(screen.getByText("state: lost")).toBeInTheDocument();
    act(() => status.connected());
    expect(screen.getByText("state: connected")).toBeInTheDocument();
  });

  it("GIVEN an idle lazy socket WHEN it closes cleanly or never connected THEN nothing is lost", () => {
    const status = new ConnectionStatus();
    status.closed(false);
    expect(status.get()).toBe("idle");
    status.connected();
    status.closed(true);
    expect(status.get()).toBe("connected");
  });
});
