import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { RepositoryRun, Thread } from "../graphql/types";
import { SAMPLE_DIFF, jobDetail } from "../test/fixtures";
import { CommandIsolationNote } from "./CommandIsolationNote";
import { DiffViewer } from "./DiffViewer";
import { RunHistory } from "./RunHistory";
import { StatusBadge, statusTone } from "./StatusBadge";
import { ThreadViewer } from "./ThreadViewer";
import { ValidationSummary } from "./ValidationSummary";

describe("StatusBadge", () => {
  it("GIVEN a status WHEN rendered THEN it shows a readable label and its tone", () => {
    render(<StatusBadge status="RUNNING_AGENT" step="agent" />);
    const badge = screen.getByText("running agent");
    expect(badge).toHaveClass("badge-active");
    expect(badge).toHaveAttribute("data-status", "RUNNING_AGENT");
  });

  it("GIVEN job and run statuses WHEN toned THEN the same meaning has the same colour", () => {
    expect(statusTone("SUCCEEDED")).toBe("success");
    expect(statusTone("FAILED")).toBe("danger");
    expect(statusTone("RUNNING")).toBe(statusTone("CLONING"));
    expect(statusTone("QUEUED")).toBe(statusTone("PENDING"));
  });
});

describe("DiffViewer", () => {
  it("GIVEN a five-file diff WHEN rendered THEN each file is a collapsible section with its stats", async () => {
    const { container } = render(<DiffViewer diff={SAMPLE_DIFF} />);
    const sections = container.querySelectorAll("details.diff-file");
    expect(sections).toHaveLength(5);
    expect(sections[0]).toHaveAttribute("open");
    expect(within(sections[0] as HTMLElement).getByLabelText("2 additions, 1 deletions")).toBeInTheDocument();
    expect(within(sections[3] as HTMLElement).getByText("a.txt → b.txt")).toBeInTheDocument();
    expect(within(sections[4] as HTMLElement).getByText("Binary file not shown.")).toBeInTheDocument();

    await userEvent.click(within(sections[0] as HTMLElement).getByText("app.py"));
    expect(sections[0]).not.toHaveAttribute("open");
  });

  it("GIVEN Python source WHEN rendered THEN keywords are highlighted and markup is escaped", () => {
    const { container } = render(<DiffViewer diff={SAMPLE_DIFF} />);
    expect(container.querySelector(".diff-add .hljs-keyword")?.textContent).toBe("def");
    expect(container.querySelector("b")).toBeNull();
    expect(container.textContent).toContain("print('<b>hi</b>')");
  });

  it("GIVEN a file changing hundreds of lines WHEN rendered THEN it starts closed and says why, small files stay open", () => {
    const big = Array.from({ length: 450 }, (_, i) => `+line ${i}`).join("\n");
    const diff = `${SAMPLE_DIFF}diff --git a/big.txt b/big.txt\nnew file mode 100644\n--- /dev/null\n+++ b/big.txt\n@@ -0,0 +1,450 @@\n${big}\n`;
    const { container } = render(<DiffViewer diff={diff} />);
    const sections = container.querySelectorAll("details.diff-file");
    expect(sections[0]).toHaveAttribute("open");
    expect(sections[5]).not.toHaveAttribute("open");
    expect(sections[5]).toHaveTextContent("large change, open to show");
  });

  it("GIVEN no diff WHEN rendered THEN it says there are no changes", () => {
    render(<DiffViewer diff="" />);
    expect(screen.getByText("No changes.")).toBeInTheDocument();
  });
});

const USAGE = { inputTokens: 1200, outputTokens: 300, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.0081 };
const THREAD: Thread = {
  model: "claude-sonnet-5-5",
  turns: 1,
  system: "You are editing one repository.",
  toolNames: ["str_replace_based_edit_tool"],
  messages: [
    { index: 0, role: "user", usage: null, blocks: [{ __typename: "TextBlock", text: "Add a greet function" }] },
    {
      index: 1,
      role: "assistant",
      usage: USAGE,
      blocks: [
        { __typename: "ThinkingBlock", thinking: "Look at app.py first" },
        {
          __typename: "ToolUseBlock",
          id: "toolu_1",
          name: "str_replace_based_edit_tool",
          input: { command: "view", path: "app.py" },
        },
      ],
    },
    {
      index: 2,
      role: "user",
      usage: null,
      blocks: [{ __typename: "ToolResultBlock", toolUseId: "toolu_1", content: "1\timport os", isError: false }],
    },
  ],
};

describe("ThreadViewer", () => {
  it("GIVEN a thread WHEN its system prompt is opened THEN what Claude was told and offered is shown", async () => {
    const { container } = render(<ThreadViewer thread={THREAD} />);
    const system = container.querySelector("details.thread-system") as HTMLDetailsElement;
    expect(system.open).toBe(false);
    expect(within(system).getByText(/System prompt and tools: str_replace_based_edit_tool/)).toBeInTheDocument();
    await userEvent.click(within(system).getByText(/System prompt/));
    expect(system.querySelector("pre")?.textContent).toBe("You are editing one repository.");
  });

  it("GIVEN a thread WHEN rendered THEN every message shows its role, blocks and usage", () => {
    render(<ThreadViewer thread={THREAD} />);
    const messages = within(screen.getByRole("list", { name: "Messages" })).getAllByRole("listitem");
    expect(messages.map((m) => m.querySelector(".role")?.textContent)).toEqual(["user", "assistant", "user"]);
    expect(screen.getByText("Add a greet function")).toBeInTheDocument();
    expect(screen.getByText("str_replace_based_edit_tool")).toBeInTheDocument();
    expect(within(messages[1]).getByLabelText("Usage of message 1")).toHaveTextContent("in 1.2k");
    expect(within(messages[1]).getByLabelText("Usage of message 1")).toHaveTextContent("$0.0081");
  });

  it("GIVEN a tool call WHEN expanded THEN its input is pretty JSON and its result is shown", async () => {
    const { container } = render(<ThreadViewer thread={THREAD} />);
    const call = container.querySelector("details.block-tool-use") as HTMLDetailsElement;
    expect(call.open).toBe(false);
    await userEvent.click(within(call).getByText(/Tool call/));
    expect(call.open).toBe(true);
    expect(call.querySelector("pre")?.textContent).toBe('{\n  "command": "view",\n  "path": "app.py"\n}');
    expect(container.querySelector(".block-tool-result pre")?.textContent).toBe("1\timport os");
    expect(container.querySelector(".block-thinking")?.textContent).toContain("Look at app.py first");
  });

  it("GIVEN a tool call WHEN collapsed THEN its summary says what it did, and the thread its total cost", () => {
    const { container } = render(<ThreadViewer thread={THREAD} />);
    expect(container.querySelector(".block-tool-use summary")).toHaveTextContent("view app.py");
    expect(container.querySelector(".thread-head")).toHaveTextContent("1 turn · $0.0081");
    expect(screen.queryByRole("link", { name: "Jump to the last message" })).toBeNull();
  });

  it("GIVEN a 30-turn thread WHEN rendered THEN a link jumps to its last message", () => {
    const messages = Array.from({ length: 60 }, (_, index) => ({
      index,
      role: index % 2 ? "assistant" : "user",
      usage: null,
      blocks: [{ __typename: "TextBlock" as const, text: `message ${index}` }],
    }));
    render(<ThreadViewer thread={{ ...THREAD, turns: 30, messages }} id="thread-run-1" />);
    expect(screen.getByRole("link", { name: "Jump to the last message" })).toHaveAttribute(
      "href",
      "#thread-run-1-last",
    );
    expect(document.getElementById("thread-run-1-last")).toHaveTextContent("message 59");
  });
});

describe("ValidationSummary", () => {
  it("GIVEN many passed checks and one failure WHEN shown THEN passes are one count and the failure is listed", () => {
    const passed = Array.from({ length: 9 }, (_, i) => ({
      name: `syntax f${i}.py`,
      status: "PASSED" as const,
      output: "",
      preExisting: false,
    }));
    const failed = { name: "check command", status: "FAILED" as const, output: "1 test failed", preExisting: false };
    const { container } = render(
      <ValidationSummary validation={{ verdict: "REGRESSED", checks: [...passed, failed] }} />,
    );
    expect(container).toHaveTextContent("Validation: regressed · 9 checks passed");
    expect(container.querySelectorAll("li")).toHaveLength(1);
    expect(container.querySelector("li")).toHaveTextContent("failed check command");
    expect(container).not.toHaveTextContent("syntax f0.py");
    expect(container).not.toHaveTextContent("before the change too");
  });

  it("GIVEN a check that failed before the change too WHEN shown THEN it says so", () => {
    const failed = { name: "syntax data.json", status: "FAILED" as const, output: "bad JSON", preExisting: true };
    const { container } = render(<ValidationSummary validation={{ verdict: "UNVERIFIED", checks: [failed] }} />);
    expect(container.querySelector("li")).toHaveTextContent("syntax data.json (failed before the change too)");
  });
});

describe("CommandIsolationNote", () => {
  it("GIVEN commands isolated both ways WHEN shown THEN one plain line says so", () => {
    const { container } = render(
      <CommandIsolationNote isolation={{ filesystem: true, network: true, reason: null }} />,
    );
    expect(container).toHaveTextContent(/^Commands ran isolated \(filesystem and network\)$/);
    expect(container.querySelector(".command-isolation-missing")).toBeNull();
  });

  it("GIVEN commands without filesystem isolation WHEN shown THEN a warning names it and bubblewrap's reason", () => {
    const reason = "bubblewrap: No permissions to create a new namespace";
    const { container } = render(<CommandIsolationNote isolation={{ filesystem: false, network: true, reason }} />);
    expect(container.querySelector(".command-isolation-missing")).toHaveTextContent(
      /^Commands ran without filesystem isolation: bubblewrap: No permissions to create a new namespace$/,
    );
  });

  it("GIVEN commands with no isolation at all WHEN shown THEN the warning names both", () => {
    const reason = "bubblewrap: refused; unshare: refused";
    const { container } = render(<CommandIsolationNote isolation={{ filesystem: false, network: false, reason }} />);
    expect(container.querySelector(".command-isolation-missing")).toHaveTextContent(
      "Commands ran without filesystem or network isolation: bubblewrap: refused; unshare: refused",
    );
  });
});

describe("RunHistory", () => {
  const run = jobDetail("RUNNING", "RUNNING_AGENT").repositories[0] as unknown as RepositoryRun;

  it("GIVEN a run on its first attempt, never resumed WHEN rendered THEN there is no history to show", () => {
    const { container } = render(<RunHistory run={run} />);
    expect(container).toBeEmptyDOMElement();
  });

  it("GIVEN a retried run resumed in both attempts WHEN rendered THEN each attempt lists its resumptions in order, with why", () => {
    const resumed = (fromTurn: number, at: string, cause: string) => ({
      __typename: "Resumption" as const,
      reason: "RESUMED" as const,
      fromTurn,
      at,
      cause,
    });
    const history = {
      ...run,
      attempt: 2,
      resumptions: [resumed(3, "2025-01-31T12:20:00.000Z", "the worker process was killed by SIGKILL")],
      attempts: [
        {
          ...run,
          attempt: 1,
          status: "FAILED",
          error: { __typename: "RunError", kind: "TERMINATED", message: "the worker was stopped" },
          resumptions: [resumed(1, "2025-01-31T12:05:00.000Z", "the server stopped before the run finished")],
        },
      ],
    } as unknown as RepositoryRun;
    render(<RunHistory run={history} />);
    const section = screen.getByRole("region", { name: "History of github.com/acme/widgets" });
    const attempts = within(section)
      .getAllByRole("listitem")
      .filter((li) => li.classList.contains("history-attempt"));
    expect(attempts.map((li) => li.textContent?.slice(0, 9))).toEqual(["Attempt 1", "Attempt 2"]);
    expect(attempts[0]).toHaveTextContent("Terminated: the worker was stopped");
    expect(attempts[0]).toHaveTextContent("Resumed from turn 1 at");
    expect(attempts[0]).toHaveTextContent("the server stopped before the run finished");
    expect(attempts[1]).toHaveTextContent("Resumed from turn 3 at");
    expect(attempts[1]).toHaveTextContent("killed by SIGKILL");
    expect(attempts[1]).not.toHaveTextContent("server stopped");
  });
});
