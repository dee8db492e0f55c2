// Follow one job over `jobUpdated` with the graphql-ws client (the one the SPA uses):
// prints "FRAME <json>" for each `next`, and RESULT at the end.
// Usage: node --experimental-websocket ws_follow.mjs WS_URL JOB_ID
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, "../../frontend/package.json"));
const { createClient } = require("graphql-ws");

const [url, jobId] = process.argv.slice(2);
const FINAL = new Set(["SUCCEEDED", "PARTIAL", "FAILED", "CANCELLED"]);
const QUERY = `subscription($id: ID!) {
  jobUpdated(id: $id) { id cursor status repositories { index status } }
}`;

const frames = [];
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  retryAttempts: 0,
  lazy: true,
});
const result = await new Promise((done) => {
  const stop = client.subscribe(
    { query: QUERY, variables: { id: jobId } },
    {
      next: (message) => {
        if (message.errors) {
          done({ error: JSON.stringify(message.errors), frames });
          return;
        }
        const job = message.data.jobUpdated;
        frames.push(job);
        console.log(`FRAME ${JSON.stringify(job)}`);
        if (FINAL.has(job.status)) {
          stop();
          done({ frames });
        }
      },
      error: (error) =>
        done({
          error: String(error?.reason ?? error?.message ?? error),
          frames,
        }),
      complete: () => done({ frames, completed: true }),
    },
  );
});
await client.dispose();
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(0);
