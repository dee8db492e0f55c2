// A unified-diff parser for `git diff` output: files, hunks, numbered lines, +/- stats.

export type LineKind = "add" | "del" | "ctx" | "note";

export interface DiffLine {
  kind: LineKind;
  text: string;
  oldNo: number | null;
  newNo: number | null;
}

export interface Hunk {
  header: string;
  lines: DiffLine[];
}

export interface DiffFile {
  oldPath: string | null;
  newPath: string | null;
  path: string;
  change: "ADDED" | "DELETED" | "MODIFIED" | "RENAMED";
  binary: boolean;
  additions: number;
  deletions: number;
  hunks: Hunk[];
}

const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

function stripPrefix(path: string): string | null {
  if (path === "/dev/null") return null;
  const unquoted = path.startsWith('"') && path.endsWith('"') ? path.slice(1, -1) : path;
  return unquoted.replace(/^[ab]\//, "");
}

function newFile(header: string): DiffFile {
  // "diff --git a/x b/x": a good first guess, refined by ---/+++ and rename lines.
  const match = /^diff --git "?a\/(.+?)"? "?b\/(.+?)"?$/.exec(header);
  const oldPath = match ? match[1] : null;
  const newPath = match ? match[2] : null;
  return {
    oldPath,
    newPath,
    path: newPath ?? oldPath ?? "",
    change: "MODIFIED",
    binary: false,
    additions: 0,
    deletions: 0,
    hunks: [],
  };
}

/** Parse `git diff` text into files with hunks and line numbers. */
export function parseDiff(text: string): DiffFile[] {
  const files: DiffFile[] = [];
  let file: DiffFile | null = null;
  let hunk: Hunk | null = null;
  let oldNo = 0;
  let newNo = 0;
  const lines = text.split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) {
    if (line.startsWith("diff --git ")) {
      file = newFile(line);
      files.push(file);
      hunk = null;
      continue;
    }
    if (!file) continue;
    if (hunk) {
      const first = line[0];
      if (first === "+") {
        hunk.lines.push({ kind: "add", text: line.slice(1), oldNo: null, newNo: newNo++ });
        file.additions++;
        continue;
      }
      if (first === "-") {
        hunk.lines.push({ kind: "del", text: line.slice(1), oldNo: oldNo++, newNo: null });
        file.deletions++;
        continue;
      }
      if (first === " " || line === "") {
        hunk.lines.push({ kind: "ctx", text: line.slice(1), oldNo: oldNo++, newNo: newNo++ });
        continue;
      }
      if (first === "\\") {
        hunk.lines.push({ kind: "note", text: line, oldNo: null, newNo: null });
        continue;
      }
    }
    const range = HUNK.exec(line);
    if (range) {
      oldNo = Number(range[1]);
      newNo = Number(range[2]);
      hunk = { header: line, lines: [] };
      file.hunks.push(hunk);
    } else if (line.startsWith("new file mode")) {
      file.change = "ADDED";
    } else if (line.startsWith("deleted file mode")) {
      file.change = "DELETED";
    } else if (line.startsWith("rename from ")) {
      file.change = "RENAMED";
      file.oldPath = line.slice("rename from ".length);
    } else if (line.startsWith("rename to ")) {
      file.change = "RENAMED";
      file.newPath = line.slice("rename to ".length);
      file.path = file.newPath;
    } else if (line.startsWith("Binary files") || line === "GIT binary patch") {
      file.binary = true;
      hunk = null;
    } else if (line.startsWith("--- ")) {
      file.oldPath = stripPrefix(line.slice(4));
    } else if (line.startsWith("+++ ")) {
      file.newPath = stripPrefix(line.slice(4));
      file.path = file.newPath ?? file.oldPath ?? file.path;
    }
  }
  return files;
}

/** Sum of additions and deletions over files. */
export function diffStats(files: DiffFile[]): { additions: number; deletions: number } {
  return files.reduce(
    (acc, f) => ({ additions: acc.additions + f.additions, deletions: acc.deletions + f.deletions }),
    { additions: 0, deletions: 0 },
  );
}
