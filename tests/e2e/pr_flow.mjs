// A reviewer's job page while its pull requests change on GitHub: the page and a graphql-ws
// subscriber must both show each change without a reload. Prints "READY <i>" when change i
// may happen, and "RESULT <json>" at the end.
// Usage: node --experimental-websocket pr_flow.mjs BASE_URL JOB_ID OUT_DIR EXPECTED_JSON
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PATIENCE_MS, runFlow, shot } from "./browser.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, "../../frontend/package.json"));
const { createClient } = require("graphql-ws");

const [baseUrl, jobId, outDir, expectedJson] = process.argv.slice(2);
// The tally after each change, e.g. [{"merged":1,"open":2,"closed":0}, ...]
const expected = JSON.parse(expectedJson);
const TALLY = `subscription($id: ID!) { jobUpdated(id: $id) { pullRequests { open merged closed } } }`;

/** The page's bar as {merged, open, closed}: the leading count of each part. */
function pageTally() {
  const count = (style) =>
    Number.parseInt(
      document.querySelector(`.pr-bar .${style}`)?.textContent ?? "-1",
      10,
    );
  return {
    merged: count("pr-merged"),
    open: count("pr-open"),
    closed: count("pr-closed"),
  };
}

/** Wait until the page's bar shows `want`. */
function pageShows(page, want) {
  return page.waitForFunction((tally) => {
    const count = (style) =>
      Number.parseInt(
        document.querySelector(`.pr-bar .${style}`)?.textContent ?? "-1",
        10,
      );
    return (
      count("pr-merged") === tally.merged &&
      count("pr-open") === tally.open &&
      count("pr-closed") === tally.closed
    );
  }, want);
}

const same = (a, b) =>
  a.merged === b.merged && a.open === b.open && a.closed === b.closed;

runFlow({ baseUrl, outDir }, async (page, result) => {
  // A script's subscriber beside the page, with the client the SPA uses.
  const seen = [];
  const waiters = [];
  const client = createClient({
    url: `${baseUrl.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
  });
  client.subscribe(
    { query: TALLY, variables: { id: jobId } },
    {
      next: (message) => {
        const tally = message.data?.jobUpdated?.pullRequests;
        if (!tally) return;
        const last = seen.at(-1);
        if (!last || !same(last, tally)) seen.push(tally);
        for (const waiter of [...waiters]) waiter();
      },
      error: (error) => {
        result.subscriberError = String(
          error?.reason ?? error?.message ?? error,
        );
      },
      complete: () => {},
    },
  );
  const subscriberAt = (tally) =>
    new Promise((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`subscriber never saw ${JSON.stringify(tally)}`)),
        PATIENCE_MS,
      );
      const check = () => {
        if (seen.length && same(seen.at(-1), tally)) {
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check), 1);
          done();
        }
      };
      waiters.push(check);
      check();
    });

  try {
    await page.goto(`${baseUrl}/jobs/${jobId}`);
    const start = { merged: 0, open: expected.length, closed: 0 };
    await pageShows(page, start);
    await subscriberAt(start);
    // Marks this document: a reload or a navigation would lose it.
    await page.evaluate(() => (window.__sameDocument = true));
    result.pageTallies = [await page.evaluate(pageTally)];
    result.badges = [];
    for (const [index, tally] of expected.entries()) {
      console.log(`READY ${index}`);
      await pageShows(page, tally);
      await subscriberAt(tally);
      result.pageTallies.push(await page.evaluate(pageTally));
      result.badges.push(
        await page
          .locator(".pr-table tbody tr td:nth-child(3)")
          .allTextContents(),
      );
    }
    await shot(page, outDir, "pull-requests-merged-live");
    result.sameDocument = await page.evaluate(
      () => window.__sameDocument === true,
    );
    result.subscriberTallies = seen;
  } finally {
    await client.dispose();
  }
});
