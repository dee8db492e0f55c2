import type { CheckStatus } from "../graphql/types";
import { repositoryName, retryableRunIds, splitChecks, statusTally } from "./runs";

describe("retryableRunIds", () => {
  it("GIVEN runs in every state WHEN asked THEN failed and cancelled ones are named, nothing else", () => {
    const runs = ["SUCCEEDED", "FAILED", "RUNNING_AGENT", "CANCELLED", "NO_CHANGES"].map((status, i) => ({
      id: `r${i}`,
      status: status as never,
    }));
    expect(retryableRunIds(runs)).toEqual(["r1", "r3"]);
  });
});

describe("statusTally", () => {
  it("GIVEN a mix of outcomes WHEN tallied THEN trouble comes first and only present states are listed", () => {
    const runs = ["SUCCEEDED", "FAILED", "SUCCEEDED", "RUNNING_AGENT", "NO_CHANGES"].map((status) => ({
      status: status as never,
    }));
    expect(statusTally(runs)).toEqual([
      { status: "FAILED", count: 1 },
      { status: "RUNNING_AGENT", count: 1 },
      { status: "SUCCEEDED", count: 2 },
      { status: "NO_CHANGES", count: 1 },
    ]);
  });
});

describe("splitChecks", () => {
  it("GIVEN passed, failed and skipped checks WHEN split THEN passes are counted and the rest kept in order", () => {
    const check = (name: string, status: CheckStatus) => ({ name, status, output: "", preExisting: false });
    const { passed, notable } = splitChecks([check("a", "PASSED"), check("b", "FAILED"), check("c", "SKIPPED")]);
    expect(passed).toBe(1);
    expect(notable.map((c) => c.name)).toEqual(["b", "c"]);
  });
});

describe("repositoryName", () => {
  it.each([
    ["github.com/acme/widgets", "widgets"],
    ["/srv/repos/service-alpha/", "service-alpha"],
    ["https://github.com/acme/gadgets.git", "gadgets"],
  ])("GIVEN %s WHEN named THEN %s", (location, name) => {
    expect(repositoryName(location)).toBe(name);
  });
});
