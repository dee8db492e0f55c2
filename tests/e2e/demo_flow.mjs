// The first-run experience: `cody-batch serve --demo`, a job on the sample repository from the
// form, the recorded session replayed to the end. Prints "RESULT <json>".
import { runFlow, shot } from "./browser.mjs";

const [baseUrl, samplePath, outDir] = process.argv.slice(2);

runFlow({ baseUrl, outDir }, async (page, result) => {
  await page.goto(`${baseUrl}/`);
  result.banner = await page.getByRole("note").textContent();
  await page.getByRole("link", { name: "New job" }).first().click();
  await page
    .getByLabel("Instruction")
    .fill("Add a docstring to every function.");
  // A new user does not know the sample's path: the form offers it.
  await page.getByRole("button", { name: `use ${samplePath}` }).click();
  result.repositories = await page.getByLabel("Repositories").inputValue();
  await page.getByRole("button", { name: "Create job" }).click();
  await page.waitForURL(
    (url) =>
      /^\/jobs\/[^/]+$/.test(url.pathname) && url.pathname !== "/jobs/new",
  );
  const finished =
    ".run-card .badge:is([data-status=SUCCEEDED], [data-status=NO_CHANGES], [data-status=FAILED])";
  await page.locator(finished).waitFor();
  result.runStatus = await page
    .locator(".run-card .badge")
    .getAttribute("data-status");
  result.summary = await page.locator(".run-card .summary").textContent();
  await page.locator(".run-diff > summary").click();
  // allTextContents does not wait: read the files once the opened diff shows one.
  await page.locator(".diff-file").first().waitFor();
  result.diffFiles = await page
    .locator(".diff-file .diff-path")
    .allTextContents();
  await shot(page, outDir, "demo-job");
});
