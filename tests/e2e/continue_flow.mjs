// A run stopped by a limit, continued from its page: the run's Continue with the limit its dialog
// offers (by default "Max turns", 4) raised. Prints "RUNNING_SEEN" once the page shows the continued
// run working again (the test then lets the fake model answer), and finally "RESULT <json>" with what
// it observed.
import { recordStatuses, runFlow, shot as saveShot } from "./browser.mjs";

const [baseUrl, jobId, outDir, limitLabel = "Max turns", limitValue = "4"] =
  process.argv.slice(2);
const shot = (page, name) => saveShot(page, outDir, name);
const ACTIVE = ["PENDING", "CLONING", "RUNNING_AGENT", "VALIDATING"];

runFlow({ baseUrl, outDir }, async (page, result) => {
  await page.goto(`${baseUrl}/jobs/${jobId}`);
  await page.locator('.run-head .badge[data-status="FAILED"]').waitFor();
  result.errorBefore = await page.locator(".run-card .run-error").textContent();
  const button = page.getByRole("button", { name: "Continue" });
  result.disabledBeforeLimit = await button.isDisabled();
  await shot(page, "continue-stopped");

  // Every status the run's badge shows from here, recorded in the page as it changes.
  await page.evaluate(() => (window.__sameDocument = true));
  await recordStatuses(page, ".run-head .badge");
  result.limitsOffered = await page
    .locator(".continue-run label")
    .allTextContents();
  await page.getByLabel(limitLabel).fill(limitValue);
  await button.click();
  await page
    .locator(
      ACTIVE.map((s) => `.run-head .badge[data-status="${s}"]`).join(", "),
    )
    .first()
    .waitFor();
  result.continueButtonWhileRunning = await button.count();
  console.log("RUNNING_SEEN");
  await page.locator('.run-head .badge[data-status="SUCCEEDED"]').waitFor();
  result.statuses = await page.evaluate(() => window.__statuses);
  result.jobStatus = await page
    .locator(".job-meta .badge")
    .getAttribute("data-status");
  result.errorAfter = await page.locator(".run-card .run-error").count();
  result.history = await page
    .locator(".run-history .history-resumption")
    .allTextContents();
  result.meta = await page.locator(".run-card .run-meta").textContent();
  result.sameDocument = await page.evaluate(
    () => window.__sameDocument === true,
  );
  await page.locator(".run-diff > summary").click();
  await page.locator(".diff-file").first().waitFor();
  result.diffAdded = await page
    .locator(".diff-add .diff-code")
    .allTextContents();
  await shot(page, "continue-succeeded");
});
