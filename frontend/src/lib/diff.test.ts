import { SAMPLE_DIFF } from "../test/fixtures";
import { diffStats, parseDiff } from "./diff";

describe("parseDiff", () => {
  const files = parseDiff(SAMPLE_DIFF);

  it("GIVEN a git diff WHEN parsed THEN every file is found with its change kind", () => {
    expect(files.map((f) => [f.path, f.change])).toEqual([
      ["app.py", "MODIFIED"],
      ["docs/new.md", "ADDED"],
      ["old.txt", "DELETED"],
      ["b.txt", "RENAMED"],
      ["logo.png", "ADDED"],
    ]);
    expect(files[3].oldPath).toBe("a.txt");
  });

  it("GIVEN a hunk WHEN parsed THEN lines carry old and new line numbers", () => {
    const lines = files[0].hunks[0].lines;
    expect(lines.map((l) => [l.kind, l.oldNo, l.newNo])).toEqual([
      ["ctx", 1, 1],
      ["del", 2, null],
      ["add", null, 2],
      ["add", null, 3],
      ["ctx", 3, 4],
      ["note", null, null],
    ]);
    expect(lines[3].text).toBe('    return f"hi {name}"');
  });

  it("GIVEN additions and deletions WHEN counted THEN stats match per file and in total", () => {
    expect(files.map((f) => [f.additions, f.deletions])).toEqual([
      [2, 1],
      [2, 0],
      [0, 1],
      [0, 0],
      [0, 0],
    ]);
    expect(diffStats(files)).toEqual({ additions: 4, deletions: 2 });
  });

  it("GIVEN a binary patch WHEN parsed THEN the file is binary with no hunks", () => {
    expect(files[4].binary).toBe(true);
    expect(files[4].hunks).toEqual([]);
  });

  it("GIVEN an empty diff WHEN parsed THEN there are no files", () => {
    expect(parseDiff("")).toEqual([]);
  });
});
