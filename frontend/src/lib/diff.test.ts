import { diffStats, parseDiff } from "./diff";

const DIFF = `diff --git a/app.py b/app.py
index 1111111..2222222 100644
--- a/app.py
+++ b/app.py
@@ -1,3 +1,4 @@
 import os
-print('hi')
+def greet(name):
+    return f"hi {name}"
 
\\ No newline at end of file
diff --git a/docs/new.md b/docs/new.md
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/docs/new.md
@@ -0,0 +1,2 @@
+# New
+text
diff --git a/old.txt b/old.txt
deleted file mode 100644
index 4444444..0000000
--- a/old.txt
+++ /dev/null
@@ -1 +0,0 @@
-gone
diff --git a/a.txt b/b.txt
similarity index 100%
rename from a.txt
rename to b.txt
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..5555555
GIT binary patch
literal 4
LcmZQzWMT#Y01f~L

literal 0
HcmV?d00001

`;

describe("parseDiff", () => {
  const files = parseDiff(DIFF);

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
