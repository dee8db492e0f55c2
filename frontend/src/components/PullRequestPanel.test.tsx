import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { PULL_REQUEST_ACTION } from "../graphql/documents";
import type { JobDetail } from "../graphql/types";
import { jobDetail } from "../test/fixtures";
import { renderWithApollo } from "../test/render";
import { PullRequestPanel } from "./PullRequestPanel";

function pr(number: number, state: string, checks: string) {
  return {
    __typename: "PullRequest",
    url: `https://github.com/acme/r${number}/pull/${number}`,
    number,
    branch: "cody-batch/job-1",
    draft: false,
    state,
    checks,
    reviewDecision: "NONE",
    mergeable: state === "OPEN" ? true : null,
    syncedAt: "2025-01-31T12:05:00.000Z",
  };
}

/** A job with an open pull request whose checks fail and a merged one. */
function jobWithPullRequests(): JobDetail {
  const job = jobDetail("SUCCEEDED", "SUCCEEDED");
  const [run] = job.repositories;
  return {
    ...job,
    pullRequests: { __typename: "PullRequestTally", open: 1, draft: 0, merged: 1, closed: 0, checksFailing: 1 },
    repositories: [
      { ...run, id: "run-1", location: "github.com/acme/r1", pullRequest: pr(1, "OPEN", "FAILURE") },
      { ...run, id: "run-2", index: 1, location: "github.com/acme/r2", pullRequest: pr(2, "MERGED", "SUCCESS") },
    ],
  } as unknown as JobDetail;
}

function actionMock(dryRun: boolean, outcome: string, message: string) {
  return {
    request: {
      query: PULL_REQUEST_ACTION,
      variables: { jobId: "job-1", action: "MERGE", runIds: ["run-1"], comment: null, dryRun },
    },
    result: {
      data: {
        pullRequestAction: [
          {
            __typename: "PullRequestActionResult",
            runId: "run-1",
            location: "github.com/acme/r1",
            number: 1,
            outcome,
            message,
          },
        ],
      },
    },
  };
}

describe("PullRequestPanel", () => {
  it("shows the job bar and each pull request's state, checks and link, filterable by state", () => {
    // GIVEN a job with one open (failing checks) and one merged pull request
    renderWithApollo(<PullRequestPanel job={jobWithPullRequests()} />, []);
    // THEN the bar counts them and each row shows its state, checks and link
    expect(screen.getByLabelText("Pull request tally").textContent).toBe(
      "1 merged1 open0 draft0 closed1 failing checks",
    );
    expect(screen.getByRole("link", { name: "github.com/acme/r1 #1" }).getAttribute("href")).toBe(
      "https://github.com/acme/r1/pull/1",
    );
    expect(screen.getAllByRole("row")).toHaveLength(3);
    // WHEN filtered to merged THEN only the merged one shows
    fireEvent.change(screen.getByLabelText("Show"), { target: { value: "MERGED" } });
    const rows = screen.getAllByRole("row");
    expect(rows).toHaveLength(2);
    expect(within(rows[1]).getByText("merged")).toBeTruthy();
  });

  it("merges the selection only after a confirmation that lists what will happen", async () => {
    // GIVEN the open pull request selected, and the server answering a dry run then the merge
    renderWithApollo(<PullRequestPanel job={jobWithPullRequests()} />, [
      actionMock(true, "WOULD_DO", "would merge #1"),
      actionMock(false, "DONE", "merge #1: done"),
    ]);
    fireEvent.click(screen.getByLabelText("Select github.com/acme/r1"));
    // WHEN Merge is pressed THEN a confirmation lists what would happen, nothing done yet
    fireEvent.click(screen.getByRole("button", { name: "Merge (1)" }));
    const dialog = await screen.findByRole("dialog", { name: "Confirm" });
    expect(dialog.textContent).toContain("github.com/acme/r1: would do — would merge #1");
    // WHEN confirmed THEN the result per pull request shows and the dialog closes
    fireEvent.click(within(dialog).getByRole("button", { name: "Confirm" }));
    expect(await screen.findByText("github.com/acme/r1: done — merge #1: done")).toBeTruthy();
    expect(screen.queryByRole("dialog")).toBeNull();
  });
});
