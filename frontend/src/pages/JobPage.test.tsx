import { ApolloClient, ApolloLink } from "@apollo/client";
import { ApolloProvider } from "@apollo/client/react";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router-dom";
import { Observable, type Subscriber } from "rxjs";
import { createCache } from "../apollo";
import { CANCEL_JOB, CONTINUE_RUN, JOB_QUERY, JOB_UPDATED, RETRY_REPOSITORIES } from "../graphql/documents";
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

/** A failed job whose first run a limit stopped, the error naming it. */
function stoppedBy(kind: string, message: string) {
  const stopped = jobDetail("FAILED", "FAILED");
  stopped.repositories[0].error = { __typename: "RunError", kind: kind as never, message };
  return stopped;
}

/** The job once its run was continued from `fromTurn`, pending again. */
function continuedFrom(fromTurn: number, cause: string) {
  const job = jobDetail("QUEUED", "PENDING", "e0000000002");
  job.repositories[0].resumptions = [
    { __typename: "Resumption", reason: "CONTINUED", fromTurn, at: "2025-01-31T12:05:00.000Z", cause },
  ] as never;
  return job;
}

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
  it("GIVEN a running job WHEN Cancel is pressed THEN the job shows cancelled and a retry names the cancelled run", async () => {
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
        // The run is named: the API's default retries failed runs only, not cancelled ones
        request: { query: RETRY_REPOSITORIES, variables: { jobId: "job-1", runIds: ["run-1"] } },
        result: { data: { retryRepositories: jobDetail("RUNNING", "PENDING", "e0000000003") } },
      },
    ]);
    expect(await screen.findByRole("heading", { name: "Say hello" })).toBeInTheDocument();
    expect(screen.getByText("step: agent")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Retry failed/ })).toBeNull();

    await userEvent.click(screen.getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(document.querySelector(".job-meta .badge")).toHaveAttribute("data-status", "CANCELLED"));
    expect(screen.queryByRole("button", { name: "Cancel" })).toBeNull();

    await userEvent.click(screen.getByRole("button", { name: "Retry failed (1)" }));
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
    expect(await screen.findByRole("alert")).toHaveTextContent("Agent: the model gave up");
    expect(screen.getByRole("button", { name: "Retry (attempt 2)" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Review all diffs" })).toHaveAttribute("href", "/jobs/job-1/review");
  });

  it("GIVEN a run whose commands ran without filesystem isolation WHEN shown THEN its card warns with the reason", async () => {
    const job = jobDetail("RUNNING", "RUNNING_AGENT");
    const reason = "bubblewrap: setting up uid map: Permission denied";
    const isolation = { __typename: "CommandIsolation", filesystem: false, network: true, reason };
    renderJob([
      {
        request: { query: JOB_QUERY, variables: { id: "job-1" } },
        result: { data: { job: { ...job, repositories: [{ ...job.repositories[0], commandIsolation: isolation }] } } },
      },
      quietUpdates,
    ]);
    expect(await screen.findByText(/^Commands ran without filesystem isolation: /)).toHaveTextContent(reason);
    expect(document.querySelector(".run-card .command-isolation-missing")).not.toBeNull();
  });

  it("GIVEN one failed run while another still runs WHEN the failed one is retried alone THEN only it starts again", async () => {
    const job = twoRuns(jobDetail("RUNNING", "FAILED"), "RUNNING_AGENT");
    const retried = twoRuns(jobDetail("RUNNING", "PENDING", "e0000000002"), "RUNNING_AGENT");
    renderJob([
      { request: { query: JOB_QUERY, variables: { id: "job-1" } }, result: { data: { job } } },
      quietUpdates,
      {
        request: { query: RETRY_REPOSITORIES, variables: { jobId: "job-1", runIds: ["run-1"] } },
        result: { data: { retryRepositories: retried } },
      },
    ]);
    // THEN the page says how the repositories stand and offers the retry without waiting for the slow one
    const index = await screen.findByRole("navigation", { name: "Repositories of this job" });
    expect(index).toHaveTextContent("1 failed · 1 running agent");
    expect(screen.getByRole("link", { name: "gadgets" })).toHaveAttribute("href", "#run-run-2");
    await userEvent.click(screen.getByRole("button", { name: "Retry failed (1)" }));
    await waitFor(() => expect(index).toHaveTextContent("1 pending · 1 running agent"));
  });

  it("GIVEN a run stopped by its turn limit WHEN it is continued with more turns THEN it shows pending and, in its history, continued from its turn and why", async () => {
    const stopped = stoppedBy("TURN_LIMIT", "Claude used its 2 turns without finishing");
    const going = continuedFrom(2, "continued by the user after its turn limit, with at most 6 turns");
    renderJob([
      { request: { query: JOB_QUERY, variables: { id: "job-1" } }, result: { data: { job: stopped } } },
      quietUpdates,
      {
        request: { query: CONTINUE_RUN, variables: { runId: "run-1", budget: { maxTurns: 6 } } },
        result: { data: { continueRun: going } },
      },
    ]);
    const button = await screen.findByRole("button", { name: "Continue" });
    expect(button).toBeDisabled();
    await userEvent.type(screen.getByLabelText("Max turns"), "6");
    await userEvent.click(button);
    const history = await screen.findByRole("region", { name: "History of github.com/acme/widgets" });
    expect(history).toHaveTextContent("Continued from turn 2 at");
    expect(history).toHaveTextContent("after its turn limit, with at most 6 turns");
    expect(screen.queryByRole("button", { name: "Continue" })).not.toBeInTheDocument();
  });

  it("GIVEN a run stopped by its job's cost limit WHEN it is continued THEN the dialog asks for the job's limit, not the run's, and sends it as maxJobCostUsd", async () => {
    const stopped = stoppedBy("JOB_BUDGET", "The job cost $20.0100 (its limit $20.00, all its runs together)");
    const going = jobDetail("QUEUED", "PENDING", "e0000000002");
    renderJob([
      { request: { query: JOB_QUERY, variables: { id: "job-1" } }, result: { data: { job: stopped } } },
      quietUpdates,
      {
        request: { query: CONTINUE_RUN, variables: { runId: "run-1", budget: {}, maxJobCostUsd: 40 } },
        result: { data: { continueRun: going } },
      },
    ]);
    const button = await screen.findByRole("button", { name: "Continue" });
    expect(screen.queryByLabelText("Max cost (USD)")).not.toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Job cost limit (USD, all its runs)"), "40");
    await userEvent.click(button);
    await waitFor(() => expect(screen.queryByRole("button", { name: "Continue" })).not.toBeInTheDocument());
  });

  it("GIVEN a run failed WORKER_DIED past its resumptions WHEN it is continued THEN it goes on with its limits and its history says why", async () => {
    const died = stoppedBy("WORKER_DIED", "the worker process was killed by SIGKILL before finishing the run");
    const going = continuedFrom(3, "continued by the user after its worker died, with at most 40 turns");
    renderJob([
      { request: { query: JOB_QUERY, variables: { id: "job-1" } }, result: { data: { job: died } } },
      quietUpdates,
      {
        request: { query: CONTINUE_RUN, variables: { runId: "run-1", budget: {} } },
        result: { data: { continueRun: going } },
      },
    ]);
    const button = await screen.findByRole("button", { name: "Continue" });
    expect(button).toBeEnabled();
    expect(screen.queryByLabelText("Max turns")).not.toBeInTheDocument();
    await userEvent.click(button);
    const history = await screen.findByRole("region", { name: "History of github.com/acme/widgets" });
    expect(history).toHaveTextContent("Continued from turn 3 at");
    expect(history).toHaveTextContent("after its worker died");
    expect(screen.queryByRole("button", { name: "Continue" })).not.toBeInTheDocument();
  });

  it("GIVEN a run stopped by its own token limit WHEN it is continued THEN the dialog offers its token and cost limits and sends the one raised", async () => {
    const stopped = stoppedBy("BUDGET", "The run used 2000500 tokens (limit 2000000).");
    const going = jobDetail("QUEUED", "PENDING", "e0000000002");
    renderJob([
      { request: { query: JOB_QUERY, variables: { id: "job-1" } }, result: { data: { job: stopped } } },
      quietUpdates,
      {
        request: { query: CONTINUE_RUN, variables: { runId: "run-1", budget: { maxTokens: 3000000 } } },
        result: { data: { continueRun: going } },
      },
    ]);
    const button = await screen.findByRole("button", { name: "Continue" });
    expect(button).toBeDisabled();
    expect(screen.getByLabelText("Max cost (USD)")).toBeInTheDocument();
    expect(screen.queryByLabelText("Job cost limit (USD, all its runs)")).not.toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Max tokens"), "3000000");
    await userEvent.click(button);
    await waitFor(() => expect(screen.queryByRole("button", { name: "Continue" })).not.toBeInTheDocument());
  });

  it("GIVEN an unknown id WHEN shown THEN the page says so", async () => {
    renderJob([{ request: { query: JOB_QUERY, variables: { id: "job-1" } }, result: { data: { job: null } } }]);
    expect(await screen.findByRole("alert")).toHaveTextContent("No job with id job-1.");
  });
});

/** `job` with a second repository, `github.com/acme/gadgets`, in `status`. */
function twoRuns(job: ReturnType<typeof jobDetail>, status: string) {
  const second = {
    ...job.repositories[0],
    id: "run-2",
    index: 1,
    location: "github.com/acme/gadgets",
    status,
    error: null,
  };
  return { ...job, repositories: [job.repositories[0], second] };
}

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
