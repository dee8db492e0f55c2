// A `git diff` with every kind of file change, shared by the parser and viewer tests.
export const SAMPLE_DIFF = `diff --git a/app.py b/app.py
index 1111111..2222222 100644
--- a/app.py
+++ b/app.py
@@ -1,3 +1,4 @@
 import os
-print('<b>hi</b>')
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

const USAGE = {
  __typename: "Usage",
  inputTokens: 100,
  outputTokens: 20,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: 0.5,
};

/** A job as JOB_QUERY / JOB_UPDATED return it, with one repository run in `runStatus`. */
export function jobDetail(status: string, runStatus: string, cursor = "e0000000001") {
  return {
    __typename: "Job",
    id: "job-1",
    title: "Say hello",
    prompt: "Say hello instead of hi.",
    kind: "CHANGE",
    output: "PATCH",
    strategy: "GENERIC",
    model: "claude-test",
    status,
    cursor,
    createdAt: "2025-01-31T12:00:00.000Z",
    updatedAt: "2025-01-31T12:00:00.000Z",
    usage: USAGE,
    pullRequests: { __typename: "PullRequestTally", open: 0, draft: 0, merged: 0, closed: 0, checksFailing: 0 },
    repositories: [
      {
        __typename: "RepositoryRun",
        id: "run-1",
        index: 0,
        location: "github.com/acme/widgets",
        status: runStatus,
        step: runStatus === "RUNNING_AGENT" ? "agent" : null,
        attempt: 1,
        error: runStatus === "FAILED" ? { __typename: "RunError", kind: "AGENT", message: "the model gave up" } : null,
        summary: null,
        patch: null,
        pullRequest: null,
        validation: null,
        usage: USAGE,
        startedAt: "2025-01-31T12:00:01.000Z",
        finishedAt: null,
        resumptions: [],
        commandIsolation: null,
        attempts: [],
      },
    ],
  };
}
