import { MockedProvider, type MockedProviderProps } from "@apollo/client/testing/react";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter } from "react-router-dom";
import { createCache } from "../apollo";

type Mocks = MockedProviderProps["mocks"];

/** Render `ui` with the app's cache, Apollo's mocked link and a router at `path`. */
export function renderWithApollo(ui: ReactElement, mocks: Mocks, path = "/") {
  return render(
    <MockedProvider mocks={mocks} cache={createCache()}>
      <MemoryRouter initialEntries={[path]}>{ui}</MemoryRouter>
    </MockedProvider>,
  );
}
