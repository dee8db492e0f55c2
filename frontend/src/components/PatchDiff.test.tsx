import { render, screen } from "@testing-library/react";
import { SAMPLE_DIFF } from "../test/fixtures";
import { formatBytes, PatchDiff } from "./PatchDiff";

describe("PatchDiff", () => {
  it("GIVEN a patch too large to fetch WHEN rendered THEN a notice with its size and the download link replace the diff", () => {
    render(<PatchDiff patch={{ diff: null, sizeBytes: 51_500_000, downloadUrl: "/patches/job-1/run-1.diff" }} />);
    expect(screen.getByRole("note")).toHaveTextContent("This patch (51.5 MB) is too large to show here.");
    expect(screen.getByRole("link", { name: "Download the patch" })).toHaveAttribute(
      "href",
      "/patches/job-1/run-1.diff",
    );
    expect(screen.queryByRole("region", { name: "Diff" })).not.toBeInTheDocument();
  });

  it("GIVEN a patch whose size was not recorded WHEN too large THEN the notice still offers the download", () => {
    render(<PatchDiff patch={{ diff: null, sizeBytes: null, downloadUrl: "/d" }} />);
    expect(screen.getByRole("note")).toHaveTextContent("This patch is too large to show here.");
  });

  it("GIVEN a patch of ordinary size WHEN rendered THEN its diff is shown file by file", () => {
    render(<PatchDiff patch={{ diff: SAMPLE_DIFF, sizeBytes: SAMPLE_DIFF.length, downloadUrl: "/d" }} />);
    expect(screen.getByRole("region", { name: "Diff" })).toBeInTheDocument();
    expect(screen.queryByRole("note")).not.toBeInTheDocument();
  });

  it("GIVEN byte counts WHEN formatted THEN they read as people write them", () => {
    expect(formatBytes(812)).toBe("812 bytes");
    expect(formatBytes(812_400)).toBe("812 KB");
    expect(formatBytes(51_500_000)).toBe("51.5 MB");
  });
});
