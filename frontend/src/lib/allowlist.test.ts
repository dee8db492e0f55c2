import { isAllowed, normalizeRepository, repositoryProblem, validateRepositories } from "./allowlist";

describe("normalizeRepository", () => {
  it.each([
    ["Acme/Widgets", "github.com/acme/widgets"],
    ["https://github.com/Acme/widgets.git", "github.com/acme/widgets"],
    ["https://github.com/acme/widgets", "github.com/acme/widgets"],
    ["git@github.com:acme/widgets.git", "github.com/acme/widgets"],
    ["/srv/repos/./one/", "/srv/repos/one"],
    ["/srv/repos/x/../two", "/srv/repos/two"],
  ])("GIVEN %s WHEN normalized THEN the location is %s", (ref, location) => {
    expect(normalizeRepository(ref)).toEqual({ location });
  });

  it.each([
    ["", /empty/],
    ["http://github.com/acme/widgets", /https/],
    ["https://gitlab.com/acme/widgets", /only github.com/],
    ["https://token@github.com/acme/widgets", /credentials/],
    ["https://github.com/acme/widgets?x=1", /query/],
    ["https://github.com/acme", /exactly one repository/],
    ["./relative", /absolute path/],
    ["not a repo", /use owner\/name/],
  ])("GIVEN %j WHEN normalized THEN it is refused", (ref, message) => {
    expect(normalizeRepository(ref).error).toMatch(message);
  });
});

describe("isAllowed", () => {
  it("GIVEN a * pattern WHEN matched THEN * stays within one path segment", () => {
    expect(isAllowed("/srv/repos/one", ["/srv/repos/*"])).toBe(true);
    expect(isAllowed("/srv/repos/one/nested", ["/srv/repos/*"])).toBe(false);
    expect(isAllowed("/srv/other/one", ["/srv/repos/*"])).toBe(false);
  });

  it("GIVEN a github.com pattern WHEN matched THEN case is ignored", () => {
    expect(isAllowed("github.com/acme/widgets", ["github.com/ACME/*"])).toBe(true);
    expect(isAllowed("github.com/other/widgets", ["github.com/acme/*"])).toBe(false);
  });

  it("GIVEN regex characters in a pattern WHEN matched THEN they are literal", () => {
    expect(isAllowed("/srv/a+b/x", ["/srv/a+b/*"])).toBe(true);
    expect(isAllowed("/srv/aab/x", ["/srv/a+b/*"])).toBe(false);
  });
});

describe("validateRepositories", () => {
  const patterns = ["github.com/acme/*", "/srv/repos/*"];

  it("GIVEN a disallowed entry WHEN validated THEN its line has a problem naming the allowlist", () => {
    const result = validateRepositories(["acme/one", "evil/two"], patterns, 5);
    expect(result.perEntry[0]).toBeNull();
    expect(result.perEntry[1]).toMatch(/github.com\/evil\/two is not in the allowlist/);
    expect(result.overall).toBeNull();
  });

  it("GIVEN more entries than allowed WHEN validated THEN the list has a problem", () => {
    const refs = ["acme/a", "acme/b", "acme/c"];
    expect(validateRepositories(refs, patterns, 2).overall).toBe("at most 2 repositories per job");
  });

  it("GIVEN the same repository twice WHEN validated THEN the duplicate is reported", () => {
    expect(validateRepositories(["acme/a", "https://github.com/acme/a"], patterns, 5).overall).toMatch(/twice/);
  });

  it("GIVEN no entries WHEN validated THEN at least one is asked for", () => {
    expect(validateRepositories([], patterns, 5).overall).toMatch(/at least one/);
  });

  it("GIVEN an allowed local path WHEN checked THEN there is no problem", () => {
    expect(repositoryProblem("/srv/repos/one", patterns)).toBeNull();
  });
});
