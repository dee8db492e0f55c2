import { act, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router-dom";
import { ConnectionContext, ConnectionStatus } from "../connection";
import { Layout } from "../components/Layout";
import { JOBS_QUERY, JOBS_UPDATED, SETTINGS_QUERY } from "../graphql/documents";
import type { JobListItem } from "../graphql/types";
import { useSettings } from "../hooks";
import { renderWithApollo } from "../test/render";
import { JobsPage } from "./JobsPage";

const USAGE = {
  __typename: "Usage",
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: 0.25,
};

function job(n: number, status = "SUCCEEDED"): JobListItem & { __typename: string } {
  return {
    __typename: "Job",
    id: `job-${n}`,
    title: `Job number ${n}`,
    status: status as JobListItem["status"],
    cursor: "e0000000001",
    createdAt: "2025-01-31T12:00:00.000Z",
    updatedAt: "2025-01-31T12:00:00.000Z",
    repositories: [
      { __typename: "RepositoryRun", id: `run-${n}-a`, status: "SUCCEEDED" },
      { __typename: "RepositoryRun", id: `run-${n}-b`, status: "SUCCEEDED" },
    ] as unknown as JobListItem["repositories"],
    usage: USAGE,
  };
}

function page(jobs: ReturnType<typeof job>[], hasNextPage: boolean, endCursor: string) {
  return {
    data: {
      jobs: {
        __typename: "JobConnection",
        edges: jobs.map((node) => ({ __typename: "JobEdge", cursor: node.id, node })),
        pageInfo: { __typename: "PageInfo", hasNextPage, endCursor },
      },
    },
  };
}

// A subscription that stays open and quiet, as jobsUpdated does while nothing changes.
const QUIET_SUBSCRIPTION = { request: { query: JOBS_UPDATED }, result: { data: { jobsUpdated: null } }, delay: 1e9 };

describe("JobsPage", () => {
  it("GIVEN two pages of jobs WHEN Load more is pressed THEN the second page is appended", async () => {
    const mocks = [
      {
        request: { query: JOBS_QUERY, variables: { first: 20, status: null } },
        result: page([job(1), job(2)], true, "job-2"),
      },
      {
        request: { query: JOBS_QUERY, variables: { first: 20, status: null, after: "job-2" } },
        result: page([job(3)], false, "job-3"),
      },
      QUIET_SUBSCRIPTION,
    ];
    renderWithApollo(<JobsPage />, mocks);
    const first = await screen.findByRole("link", { name: "Job number 1" });
    expect(first).toHaveAttribute("href", "/jobs/job-1");
    const row = first.closest("tr") as HTMLElement;
    expect(within(row).getByText("2")).toBeInTheDocument();
    expect(within(row).getByText("$0.25")).toBeInTheDocument();
    expect(within(row).getByText("succeeded")).toHaveClass("badge-success");

    await userEvent.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("link", { name: "Job number 3" })).toBeInTheDocument();
    expect(screen.getAllByRole("row")).toHaveLength(4);
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("GIVEN the list is open WHEN jobsUpdated names a job it lacks THEN the first page is fetched again", async () => {
    const mocks = [
      {
        request: { query: JOBS_QUERY, variables: { first: 20, status: null } },
        result: page([job(1)], false, "job-1"),
      },
      { request: { query: JOBS_UPDATED }, result: { data: { jobsUpdated: job(5, "RUNNING") } } },
      {
        request: { query: JOBS_QUERY, variables: { first: 20, status: null } },
        result: page([job(5, "RUNNING"), job(1)], false, "job-1"),
      },
    ];
    renderWithApollo(<JobsPage />, mocks);
    await screen.findByRole("link", { name: "Job number 1" });
    const added = await screen.findByRole("link", { name: "Job number 5" });
    expect(within(added.closest("tr") as HTMLElement).getByText("running")).toHaveClass("badge-active");
  });

  it("GIVEN a status filter in the URL WHEN loaded THEN only that status is asked for", async () => {
    const mocks = [
      {
        request: { query: JOBS_QUERY, variables: { first: 20, status: "FAILED" } },
        result: page([job(9, "FAILED")], false, "job-9"),
      },
      QUIET_SUBSCRIPTION,
    ];
    renderWithApollo(<JobsPage />, mocks, "/?status=FAILED");
    expect(await screen.findByRole("link", { name: "Job number 9" })).toBeInTheDocument();
    expect(screen.getByLabelText("Status")).toHaveValue("FAILED");
  });
});

function SettingsProbe() {
  return useSettings().settings ? <p>settings loaded</p> : null;
}

describe("Layout", () => {
  const settings = (demo: boolean) => ({
    request: { query: SETTINGS_QUERY },
    result: {
      data: {
        settings: {
          __typename: "ServerSettings",
          backend: "local",
          allowedRepositories: [],
          maxRepositories: 5,
          models: ["m"],
          defaultModel: "m",
          commandsEnabled: false,
          demo,
          sampleRepositories: [],
        },
      },
    },
  });

  it("GIVEN a demo server WHEN the app renders THEN a banner says the model is a recording", async () => {
    renderWithApollo(<Layout />, [settings(true)]);
    expect(await screen.findByRole("note")).toHaveTextContent("recorded demo session, not Claude");
  });

  it("GIVEN the live connection is lost WHEN the app renders THEN a banner says it is reconnecting", async () => {
    const status = new ConnectionStatus();
    status.connected();
    status.closed(false);
    renderWithApollo(
      <ConnectionContext.Provider value={status}>
        <Layout />
      </ConnectionContext.Provider>,
      [settings(false)],
    );
    expect(await screen.findByRole("status")).toHaveTextContent("Lost the live connection to the server; reconnecting");
    act(() => status.connected());
    expect(screen.queryByText(/Lost the live connection/)).toBeNull();
  });

  it("GIVEN a real server WHEN the app renders THEN there is no demo banner", async () => {
    renderWithApollo(
      <Routes>
        <Route element={<Layout />}>
          <Route index element={<SettingsProbe />} />
        </Route>
      </Routes>,
      [settings(false)],
    );
    await screen.findByText("settings loaded");
    expect(screen.queryByRole("note")).toBeNull();
  });
});
