// The graphql-http audit suite (GraphQL over HTTP spec: every MUST and SHOULD) against a live server.
// Usage: node graphql_http_audit.mjs URL; prints one line per audit, then RESULT {json}.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../../frontend/package.json"));
const { auditServer } = require("graphql-http");

const results = await auditServer({ url: process.argv[2] });
for (const r of results) console.log(`${r.status} ${r.id} ${r.name}`);
const failures = results
  .filter((r) => r.status !== "ok")
  .map((r) => ({ id: r.id, name: r.name, status: r.status, reason: r.reason }));
console.log(`RESULT ${JSON.stringify({ total: results.length, failures })}`);
