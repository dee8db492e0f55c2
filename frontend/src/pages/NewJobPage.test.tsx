import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes, useParams } from "react-router-dom";
import { CHECK_REPOSITORIES, CREATE_JOB } from "../graphql/documents";
import type { ServerSettings } from "../graphql/types";
import { fieldOfError, toInput, initialForm } from "./jobForm";
import { renderWithApollo } from "../test/render";
import { NewJobForm } from "./NewJobPage";

const SETTINGS: ServerSettings = {
  backend: "local",
  allowedRepositories: ["/srv/repos/*"],
  maxRepositories: 2,
  models: ["claude-test", "claude-other"],
  defaultModel: "claude-test",
  commandsEnabled: false,
  demo: false,
  sampleRepositories: [],
};

const INPUT = {
  prompt: "Add type hints",
  repositories: ["/srv/repos/a", "/srv/repos/b"],
  kind: "CHANGE",
  output: "PATCH",
  strategy: "GENERIC",
  model: "claude-test",
};

function JobStub() {
  return <p>job page {useParams().id}</p>;
}

type Answer = { location: string | null; allowed: boolean; problem: string | null };

// What the server's checkRepositories would answer here: /srv/repos/* allowed, anything else not.
function serverAnswer(reference: string): Answer {
  if (reference.startsWith("/srv/repos/")) return { location: reference, allowed: true, problem: null };
  return {
    location: reference,
    allowed: false,
    problem: `${reference} is not allowed; allowed patterns: /srv/repos/*`,
  };
}

/** The reference lists the form asked the server about, in order. */
let asked: string[][] = [];

function renderForm(payload: object, settings: ServerSettings = SETTINGS) {
  asked = [];
  const mocks = [
    { request: { query: CREATE_JOB, variables: { input: INPUT } }, result: { data: { createJob: payload } } },
    {
      request: { query: CHECK_REPOSITORIES, variables: () => true },
      maxUsageCount: Number.POSITIVE_INFINITY,
      result: ({ repositories }: { repositories: string[] }) => {
        asked.push(repositories);
        const checks = repositories.map((reference) => ({
          __typename: "RepositoryCheck",
          reference,
          ...serverAnswer(reference),
        }));
        return { data: { checkRepositories: checks } };
      },
    },
  ];
  return renderWithApollo(
    <Routes>
      <Route path="/jobs/new" element={<NewJobForm settings={settings} />} />
      <Route path="/jobs/:id" element={<JobStub />} />
    </Routes>,
    mocks,
    "/jobs/new",
  );
}

async function fillAndSubmit() {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText("Instruction"), INPUT.prompt);
  await user.type(screen.getByLabelText("Repositories"), INPUT.repositories.join("\n"));
  await user.click(screen.getByRole("button", { name: "Create job" }));
}

describe("NewJobForm", () => {
  it("GIVEN a server with a sample repository WHEN its button is pressed THEN the sample fills Repositories", async () => {
    renderForm({}, { ...SETTINGS, sampleRepositories: ["/srv/repos/hello-python"] });
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "use /srv/repos/hello-python" }));
    expect(screen.getByLabelText("Repositories")).toHaveValue("/srv/repos/hello-python");
    expect(screen.queryByRole("button", { name: /use \/srv/ })).toBeNull();
  });

  it("GIVEN more samples than a job may have WHEN their button is pressed THEN it fills as many as allowed, as it says", async () => {
    const samples = ["/srv/repos/hello-2", "/srv/repos/hello-3", "/srv/repos/hello-python"];
    renderForm({}, { ...SETTINGS, sampleRepositories: samples });
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "use the 2 sample repositories" }));
    expect(screen.getByLabelText("Repositories")).toHaveValue("/srv/repos/hello-2\n/srv/repos/hello-3");
  });

  it("GIVEN a server without samples WHEN rendered THEN no sample button is offered", () => {
    renderForm({});
    expect(screen.queryByText(/Try the sample repository/)).toBeNull();
  });

  it("GIVEN the form WHEN rendered THEN every control has its label", () => {
    renderForm({});
    for (const label of [
      "Instruction",
      "Repositories",
      "Kind",
      "Output",
      "Strategy",
      "Model",
      "Check command",
      "Max turns",
      "Max cost (USD)",
    ])
      expect(screen.getByLabelText(label)).toBeInTheDocument();
  });

  it("GIVEN commands are disabled WHEN rendered THEN the check command is disabled with an explanation", () => {
    renderForm({});
    const input = screen.getByLabelText("Check command");
    expect(input).toBeDisabled();
    expect(input).toHaveAccessibleDescription(/does not run commands/);
  });

  it("GIVEN a repository the server refuses WHEN typed THEN the Repositories field says why once typing pauses", async () => {
    renderForm({});
    await userEvent.type(screen.getByLabelText("Repositories"), "/srv/repos/ok\n/etc/secret");
    const field = screen.getByLabelText("Repositories");
    await waitFor(() => expect(field).toHaveAttribute("aria-invalid", "true"));
    expect(field).toHaveAccessibleDescription(/Line 2 \(\/etc\/secret\): \/etc\/secret is not allowed/);
    expect(field).not.toHaveAccessibleDescription(/Line 1/);
    expect(asked.at(-1)).toEqual(["/srv/repos/ok", "/etc/secret"]);
  });

  it("GIVEN a refused line WHEN it is corrected THEN the error goes once the server agrees", async () => {
    renderForm({});
    const field = screen.getByLabelText("Repositories");
    await userEvent.type(field, "/etc/secret");
    await waitFor(() => expect(field).toHaveAttribute("aria-invalid", "true"));
    await userEvent.clear(field);
    await userEvent.type(field, "/srv/repos/a");
    await waitFor(() => expect(asked.at(-1)).toEqual(["/srv/repos/a"]));
    expect(field).not.toHaveAttribute("aria-invalid", "true");
  });

  it("GIVEN too many repositories WHEN typed THEN the limit is shown", async () => {
    renderForm({});
    await userEvent.type(screen.getByLabelText("Repositories"), "/srv/repos/a\n/srv/repos/b\n/srv/repos/c");
    expect(screen.getByLabelText("Repositories")).toHaveAccessibleDescription(/at most 2 repositories per job/);
  });

  it("GIVEN the server answers an InputError for repositories.1 WHEN submitted THEN it shows at the Repositories field", async () => {
    renderForm({ __typename: "InputError", message: "no directory at /srv/repos/b", field: "repositories.1" });
    await fillAndSubmit();
    const alert = await screen.findByText("Line 2: no directory at /srv/repos/b");
    expect(screen.getByLabelText("Repositories")).toHaveAccessibleDescription(/Line 2: no directory/);
    expect(alert).toHaveAttribute("id", "repositories-error");
    expect(screen.getByLabelText("Instruction")).not.toHaveAttribute("aria-invalid");
  });

  it("GIVEN the server answers an InputError for prompt WHEN submitted THEN it shows at the Instruction field", async () => {
    renderForm({ __typename: "InputError", message: "the instruction is too long", field: "prompt" });
    await fillAndSubmit();
    await screen.findByText("the instruction is too long");
    expect(screen.getByLabelText("Instruction")).toHaveAccessibleDescription(/too long/);
  });

  it("GIVEN the server creates the job WHEN submitted THEN the page moves to the job", async () => {
    renderForm({ __typename: "Job", id: "01JOB" });
    await fillAndSubmit();
    expect(await screen.findByText("job page 01JOB")).toBeInTheDocument();
  });
});

describe("jobForm", () => {
  it("GIVEN InputError paths WHEN mapped THEN each lands on its form field", () => {
    expect(fieldOfError("repositories.2")).toEqual({ field: "repositories", line: 3 });
    expect(fieldOfError("repositories")).toEqual({ field: "repositories" });
    expect(fieldOfError("budget.maxTurns")).toEqual({ field: "maxTurns" });
    expect(fieldOfError("checkCommand")).toEqual({ field: "checkCommand" });
    expect(fieldOfError(null)).toBeNull();
    expect(fieldOfError("somethingElse")).toBeNull();
  });

  it("GIVEN budget and blank optional fields WHEN turned into input THEN only given values are sent", () => {
    const form = { ...initialForm("m"), prompt: "p", repositories: " a/b \n\n", maxTurns: "7", maxCostUsd: "" };
    expect(toInput(form)).toEqual({
      prompt: "p",
      repositories: ["a/b"],
      kind: "CHANGE",
      output: "PATCH",
      strategy: "GENERIC",
      model: "m",
      budget: { maxTurns: 7 },
    });
  });
});
