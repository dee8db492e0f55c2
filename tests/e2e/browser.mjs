// Shared by the browser flows: Debian's Chromium through playwright-core (never a downloaded
// browser), a fresh profile, screenshots, and the RESULT line the pytest side reads.
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, "../../frontend/package.json"));
const { chromium } = require("playwright-core");

const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/**
 * How long a flow waits for anything (a page state, a frame) before it fails: the pytest side's PATIENCE,
 * a guard against hanging and never a speed assertion. Every Playwright wait uses it.
 */
export const PATIENCE_MS =
  Number(process.env.E2E_PATIENCE_SECONDS ?? 180) * 1000;

/** Save a full-page screenshot as `<outDir>/<name>.png`. */
export function shot(page, outDir, name) {
  return page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
}

/**
 * Record in the page, as `window.__statuses`, every status the badge at `selector` shows from now
 * on (each change once), so a flow can check what it passed through without polling.
 */
export function recordStatuses(page, selector) {
  return page.evaluate((badge) => {
    window.__statuses = [];
    const record = () => {
      const status = document.querySelector(badge)?.getAttribute("data-status");
      if (status && window.__statuses.at(-1) !== status)
        window.__statuses.push(status);
    };
    record();
    new MutationObserver(record).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
    });
  }, selector);
}

/**
 * Run `flow(page, result)` in a fresh headless Chromium; requests to other origins and page
 * errors are collected into `result`, which is printed as "RESULT <json>" at the end.
 */
export async function runFlow({ baseUrl, outDir }, flow) {
  const result = { offOrigin: [], pageErrors: [] };
  const profile = mkdtempSync(join(tmpdir(), "cody-batch-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_FLAGS,
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
    });
    context.setDefaultTimeout(PATIENCE_MS);
    const page = context.pages()[0] ?? (await context.newPage());
    const origin = new URL(baseUrl).host;
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (!["data:", "blob:"].includes(url.protocol) && url.host !== origin)
        result.offOrigin.push(request.url());
    });
    page.on("pageerror", (error) => result.pageErrors.push(String(error)));
    await flow(page, result);
  } catch (error) {
    result.error = String(error?.stack ?? error);
    const pages = context?.pages() ?? [];
    await Promise.all(
      pages.map((p, i) => shot(p, outDir, `failure-${i}`).catch(() => null)),
    );
  } finally {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    console.log(`RESULT ${JSON.stringify(result)}`);
  }
}
