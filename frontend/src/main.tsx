import { ApolloProvider } from "@apollo/client/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { createApolloClient } from "./apollo";
import { App } from "./App";
import { loadConfig } from "./config";
import { ConnectionContext } from "./connection";
import { ConfigContext } from "./context";
import "./styles.css";

async function start(): Promise<void> {
  const config = await loadConfig();
  const { client, connection } = createApolloClient(config);
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <ConfigContext.Provider value={config}>
        <ConnectionContext.Provider value={connection}>
          <ApolloProvider client={client}>
            <BrowserRouter>
              <App />
            </BrowserRouter>
          </ApolloProvider>
        </ConnectionContext.Provider>
      </ConfigContext.Provider>
    </StrictMode>,
  );
}

void start();
