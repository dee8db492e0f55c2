// One change across several repositories reviewed as one: the review page of a finished job.
// Prints "RESULT <json>".
import { runFlow, shot } from "./browser.mjs";

const [baseUrl, jobId, outDir] = process.argv.slice(2);

runFlow({ baseUrl, outDir }, async (page, result) => {
  await page.goto(`${baseUrl}/jobs/${jobId}/review`);
  await page.locator(".review-run").first().waitFor();
  result.title = await page.locator("h1").textContent();
  result.matrixHeads = await page.locator(".matrix thead th").allTextContents();
  result.matrixFiles = await page.locator(".matrix tbody th").allTextContents();
  result.repositories = await page
    .locator(".review-run .location")
    .allTextContents();
  result.diffFiles = await page
    .locator(".review-run .diff-file .diff-path")
    .allTextContents();
  await shot(page, outDir, "review-two-repositories");
  // The job page at a glance, then on a phone: nothing may widen the page past the screen.
  await page.goto(`${baseUrl}/jobs/${jobId}`);
  result.tally = await page.locator(".run-index .tally").textContent();
  await page.setViewportSize({ width: 390, height: 844 });
  result.narrowOverflow = await page.evaluate(
    () => document.documentElement.scrollWidth - window.innerWidth,
  );
  await shot(page, outDir, "job-two-repositories-narrow");
});
