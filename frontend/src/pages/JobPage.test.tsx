import { ApolloClient, ApolloLink } from "@apollo/client";
import { ApolloProvider } from "@apollo/client/react";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router-dom";
import { Observable, type Subscriber } from "rxjs";
import { createCache } from "../apollo";
import { CANCEL_JOB, JOB_QUERY, JOB_UPDATED, RETRY_REPOSITORIES } from "../graphql/documents";
import { useJobLive } from "../hooks";
import { jobDetail } from "../test/fixtures";
import { renderWithApollo } from "../test/render";
import { JobPage } from "./JobPage";

const CURSOR = "e0000000001";
const quietUpdates = {
  request: { query: JOB_UPDATED, variables: { id: "job-1", after: CURSOR } },
  result: { data: null },
  delay: 1e9,
};

function renderJob(mocks: object[]) {
  return renderWithApollo(
    <Routes>
      <Route path="/jobs/:id" element={<JobPage />} />
    </Routes>,
    mocks as never,
    "/jobs/job-1",
  );
}

describe("JobPage", () => {
  it("GIVEN a running job WHEN Cancel is pressed THEN the job shows cancelled and offers a retry", async () => {
    renderJob([
      {
        request: { query: JOB_QUERY, variables: { id: "job-1" } },
        result: { data: { job: jobDetail("RUNNING", "RUNNING_AGENT") } },
      },
      quietUpdates,
      {
        request: { query: CANCEL_JOB, variables: { id: "job-1" } },
        result: { data: { cancelJob: jobDetail("CANCELLED", "CANCELLED", "e0000000002") } },
      },
      {
        request: { query: RETRY_REPOSITORIES, variables: { jobId: "job-1" } },
        result: { data: { retryRepositories: jobDetail("RUNNING", "PENDING", "e0000000003") } },
      },
    ]);
    expect(await screen.findByRole("heading", { name: "Say hello" })).toBeInTheDocument();
    expect(screen.getByText("step: agent")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Retry failed" })).toBeNull();

    await userEvent.click(screen.getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(document.querySelector(".job-meta .badge")).toHaveAttribute("data-status", "CANCELLED"));
    expect(screen.queryByRole("button", { name: "Cancel" })).toBeNull();

    await userEvent.click(screen.getByRole("button", { name: "Retry failed" }));
    await waitFor(() => expect(document.querySelector(".run-card .badge")).toHaveAttribute("data-status", "PENDING"));
  });

  it("GIVEN a failed run WHEN shown THEN its error is announced and links carry the job id", async () => {
    renderJob([
      {
        request: { query: JOB_QUERY, variables: { id: "job-1" } },
        result: { data: { job: jobDetail("FAILED", "FAILED") } },
      },
      quietUpdates,
    ]);
    expect(await screen.findByRole("alert")).toHaveTextContent("AGENT: the model gave up");
    expect(screen.getByRole("link", { name: "Review all diffs" })).toHaveAttribute("href", "/jobs/job-1/review");
  });

  it("GIVEN an unknown id WHEN shown THEN the page says so", async () => {
    renderJob([{ request: { query: JOB_QUERY, variables: { id: "job-1" } }, result: { data: { job: null } } }]);
    expect(await screen.findByRole("alert")).toHaveTextContent("No job with id job-1.");
  });
});

/** A link that records each operation and hands its subscriber to the test. */
class ControlledLink extends ApolloLink {
  calls: { variables: Record<string, unknown>; subscriber: Subscriber<ApolloLink.Result> }[] = [];

  override request(operation: ApolloLink.Operation): Observable<ApolloLink.Result> {
    return new Observable((subscriber) => {
      this.calls.push({ variables: operation.variables, subscriber });
    });
  }
}

function LiveProbe() {
  const { error } = useJobLive("job-1", CURSOR, 0);
  return <p>{error ?? "live"}</p>;
}

describe("useJobLive", () => {
  it("GIVEN a dropped subscription WHEN it resumes THEN it asks for changes after the last cursor it saw", async () => {
    const link = new ControlledLink();
    const client = new ApolloClient({ link, cache: createCache() });
    render(
      <ApolloProvider client={client}>
        <LiveProbe />
      </ApolloProvider>,
    );
    await waitFor(() => expect(link.calls).toHaveLength(1));
    expect(link.calls[0].variables).toEqual({ id: "job-1", after: CURSOR });

    link.calls[0].subscriber.next({ data: { jobUpdated: jobDetail("RUNNING", "CLONING", "e0000000007") } });
    link.calls[0].subscriber.error(new Error("socket closed"));

    await waitFor(() => expect(link.calls).toHaveLength(2));
    expect(link.calls[1].variables).toEqual({ id: "job-1", after: "e0000000007" });
    // AND the update landed in the cache for every view of the job
    const cached = client.cache.extract() as Record<string, { status?: string }>;
    expect(cached["RepositoryRun:run-1"].status).toBe("CLONING");
  });
});
