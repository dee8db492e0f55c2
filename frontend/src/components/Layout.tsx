import { NavLink, Outlet, useLocation } from "react-router-dom";
import { useConnectionState } from "../connection";
import { useSettings } from "../hooks";
import { TokenPrompt, isUnauthorized } from "./TokenPrompt";

/** Header, navigation, the demo banner and the page. */
export function Layout() {
  const { settings, error } = useSettings();
  const wide = useLocation().pathname === "/graphiql";
  const connection = useConnectionState();
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand" end>
          Cody Batch
        </NavLink>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Jobs
          </NavLink>
          <NavLink to="/jobs/new">New job</NavLink>
          <NavLink to="/graphiql">GraphiQL</NavLink>
        </nav>
      </header>
      {settings?.demo && (
        <div className="demo-banner" role="note">
          Demo mode: the model is a recorded demo session, not Claude. It replays one session against the sample
          repository.
        </div>
      )}
      {connection === "lost" && (
        <div className="connection-banner" role="status">
          Lost the live connection to the server; reconnecting… Updates resume, and anything missed is reloaded, as soon
          as it is back.
        </div>
      )}
      {error && isUnauthorized(error) && <TokenPrompt />}
      <main id="main" className={wide ? "wide" : undefined}>
        <Outlet />
      </main>
    </div>
  );
}
