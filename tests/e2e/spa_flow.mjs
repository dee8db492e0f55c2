// Drives the built SPA in Debian's Chromium (playwright-core, no downloaded browser) against a
// running Cody Batch server. Prints "RUNNING_SEEN" once the job page shows a run working and its
// WebSocket has been dropped (the test then lets the fake model answer), and finally
// "RESULT <json>" with what it observed; the pytest side makes the assertions.
import { join } from "node:path";
import { recordStatuses, runFlow, shot as saveShot } from "./browser.mjs";

const [baseUrl, repoPath, outDir] = process.argv.slice(2);
const shot = (page, name) => saveShot(page, outDir, name);

// WCAG AA: text against its effective background must reach 4.5:1 (computed in the page).
async function contrastFailures(page) {
  return page.evaluate(() => {
    const parse = (c) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]) => {
      const [R, G, B] = [r, g, b].map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * R + 0.7152 * G + 0.0722 * B;
    };
    const background = (el) => {
      for (let node = el; node; node = node.parentElement) {
        const rgba = parse(getComputedStyle(node).backgroundColor);
        if (rgba.length === 3 || (rgba.length === 4 && rgba[3] > 0))
          return rgba;
      }
      return parse(getComputedStyle(document.body).backgroundColor);
    };
    const selectors =
      "h1, h2, h3, p, a, button, label, td, th, summary, .badge, .muted, .hint, .usage span, .diffstat span, .diff-code, .role";
    const failures = [];
    for (const el of document.querySelectorAll(selectors)) {
      if (
        !el.textContent.trim() ||
        el.closest("[disabled]") ||
        el.offsetParent === null
      )
        continue;
      const fg = luminance(parse(getComputedStyle(el).color));
      const bg = luminance(background(el));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      if (ratio < 4.5)
        failures.push(
          `${el.tagName}.${el.className}: ${ratio.toFixed(2)} "${el.textContent.trim().slice(0, 30)}"`,
        );
    }
    return failures;
  });
}

async function accessibility(page) {
  return page.evaluate(() => {
    const controls = [
      ...document.querySelectorAll("input, select, textarea"),
    ].filter((el) => el.type !== "hidden");
    const unlabeled = controls
      .filter((el) => el.labels.length === 0 && !el.getAttribute("aria-label"))
      .map((el) => el.id || el.outerHTML.slice(0, 80));
    const unnamedButtons = [...document.querySelectorAll("button, a")]
      .filter((el) => !el.textContent.trim() && !el.getAttribute("aria-label"))
      .map((el) => el.outerHTML.slice(0, 80));
    return { controls: controls.length, unlabeled, unnamedButtons };
  });
}

async function tabOrder(page) {
  await page.evaluate(() => document.activeElement?.blur());
  const order = [];
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      return {
        tag: el.tagName,
        id: el.id,
        type: el.getAttribute("type"),
        text: el.textContent.trim().slice(0, 30),
      };
    });
    if (!focused) continue;
    order.push(focused);
    if (focused.tag === "BUTTON" && focused.type === "submit") break;
  }
  return order;
}

runFlow({ baseUrl, outDir }, async (page, result) => {
  // Every GraphQL WebSocket passes through here, so the flow can drop it like a flaky network.
  const sockets = [];
  await page.routeWebSocket(/\/graphql$/, (ws) => {
    sockets.push(ws);
    ws.connectToServer();
  });

  // New job form: labels, keyboard order, live allowlist validation.
  await page.goto(`${baseUrl}/jobs/new`);
  await page.getByLabel("Instruction").waitFor();
  result.formAccessibility = await accessibility(page);
  result.tabOrder = await tabOrder(page);
  await page.getByLabel("Repositories").fill("/etc");
  result.allowlistMessage = await page
    .locator("#repositories-error")
    .textContent();
  await page.getByLabel("Instruction").fill("Say hello instead of hi.");
  await page.getByLabel("Repositories").fill(repoPath);
  await page.getByLabel("Title").fill("Greeting in the browser");
  result.allowlistMessageAfterFix = await page
    .locator("#repositories-error")
    .count();
  await shot(page, "new-job");

  // Submit; the job page must follow the run live, with no reload.
  await page.evaluate(() => (window.__sameDocument = true));
  await page.getByRole("button", { name: "Create job" }).click();
  await page.waitForURL(
    (url) =>
      /^\/jobs\/[^/]+$/.test(url.pathname) && url.pathname !== "/jobs/new",
  );
  result.jobId = new URL(page.url()).pathname.split("/").pop();
  await page.locator(".run-card .badge").waitFor();
  await recordStatuses(page, ".run-card .badge");
  await page.locator('.run-card .badge[data-status="RUNNING_AGENT"]').waitFor();
  await shot(page, "job-running");
  // Drop the socket (1012: service restart, which graphql-ws retries), then let the model go on:
  // the run finishes while the page is disconnected, and the page must still catch up.
  result.socketsBeforeDrop = sockets.length;
  await Promise.all(
    sockets.map((ws) =>
      ws.close({ code: 1012, reason: "test drops the connection" }),
    ),
  );
  // The page says the live connection is gone while it reconnects (graphql-ws waits >= 1 s).
  result.connectionBannerShown = await page
    .locator(".connection-banner")
    .waitFor()
    .then(
      () => true,
      () => false,
    );
  console.log("RUNNING_SEEN");
  await page.locator('.run-card .badge[data-status="SUCCEEDED"]').waitFor();
  result.socketsAfterDrop = sockets.length;
  result.connectionBannerAfter = await page
    .locator(".connection-banner")
    .count();
  result.statuses = await page.evaluate(() => window.__statuses);
  result.jobStatus = await page
    .locator(".job-meta .badge")
    .getAttribute("data-status");
  result.sameDocument = await page.evaluate(
    () => window.__sameDocument === true,
  );
  await shot(page, "job-succeeded");

  // Diff, download, thread.
  await page.locator(".run-diff > summary").click();
  await page.locator(".diff-file").first().waitFor();
  result.diffFiles = await page
    .locator(".diff-file .diff-path")
    .allTextContents();
  result.diffAdded = await page
    .locator(".diff-add .diff-code")
    .allTextContents();
  await shot(page, "diff");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator(".run-links a", { hasText: "Download patch" }).click(),
  ]);
  result.downloadPath = join(outDir, "downloaded.patch");
  await download.saveAs(result.downloadPath);
  await page.locator(".run-thread > summary").click();
  await page.locator(".messages .message").first().waitFor();
  result.threadRoles = await page
    .locator(".messages .message .role")
    .allTextContents();
  result.toolCalls = await page
    .locator(".block-tool-use > summary code")
    .allTextContents();
  await shot(page, "thread");

  // One-page review, then the jobs list.
  await page.getByRole("link", { name: "Review all diffs" }).click();
  await page.locator(".matrix").waitFor();
  result.reviewFiles = await page.locator(".matrix tbody th").allTextContents();
  await shot(page, "review");
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: "Jobs" })
    .click();
  const row = page.locator(`tr[data-job-id="${result.jobId}"]`);
  await row.waitFor();
  result.listRow = {
    status: await row.locator(".badge").getAttribute("data-status"),
    cells: await row.locator("td").allTextContents(),
  };
  result.sameDocumentAtEnd = await page.evaluate(
    () => window.__sameDocument === true,
  );
  await shot(page, "jobs");

  // Contrast in light and dark schemes, on the richest page (job with diff and thread open).
  result.contrast = {};
  // Calibrate the checker: a pale probe on white must be reported.
  await page.evaluate(() => {
    const probe = Object.assign(document.createElement("p"), {
      textContent: "contrast probe",
    });
    Object.assign(probe.style, { color: "#aaaaaa", background: "#ffffff" });
    document.querySelector("main").append(probe);
  });
  result.contrastProbeCaught = (await contrastFailures(page)).some((f) =>
    f.includes("contrast probe"),
  );
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(`${baseUrl}/jobs/${result.jobId}`);
    await page.locator(".run-diff > summary").click();
    await page.locator(".run-thread > summary").click();
    await page.locator(".messages .message").first().waitFor();
    result.contrast[scheme] = await contrastFailures(page);
    await shot(page, `job-${scheme}`);
  }
  await page.emulateMedia({ colorScheme: "light" });

  // Bookmarkable route, loaded cold, and the bundled GraphiQL.
  await page.goto(`${baseUrl}/jobs/${result.jobId}/review`);
  await page.locator(".matrix").waitFor();
  result.coldReviewTitle = await page.locator("h1").textContent();
  await page.goto(`${baseUrl}/graphiql`);
  await page.locator(".graphiql-container").waitFor();
  // Monaco fills the editor asynchronously; run the query once it is there.
  await page
    .locator(".graphiql-query-editor .view-lines", { hasText: "RecentJobs" })
    .waitFor();
  await page.locator(".graphiql-execute-button").click();
  await page
    .locator(".graphiql-response")
    .getByText("Greeting in the browser")
    .waitFor();
  result.graphiqlQuery = true;
  // A subscription typed into GraphiQL goes over the configured WebSocket URL.
  await page.locator(".graphiql-query-editor .monaco-editor").first().click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(
    `subscription WatchJob { jobUpdated(id: "${result.jobId}") { id status } }`,
  );
  // GraphiQL picks up the operation name after a debounce; run once the tab shows it.
  await page.locator(".graphiql-tab", { hasText: "WatchJob" }).waitFor();
  await page.locator(".graphiql-execute-button").click();
  await page
    .locator(".graphiql-response")
    .getByText('"SUCCEEDED"')
    .first()
    .waitFor();
  result.graphiqlSubscription = true;
  await shot(page, "graphiql");
});
