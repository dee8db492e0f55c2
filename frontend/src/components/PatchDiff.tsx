import { DiffViewer } from "./DiffViewer";

/** The fields of a patch PatchDiff needs (a diff asked for with `maxBytes`, so null when larger). */
export interface ShownPatch {
  diff: string | null;
  sizeBytes: number | null;
  downloadUrl: string;
}

/** A byte count the way people read it: 812 KB, 51.5 MB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  if (bytes < 1_000_000) return `${Math.round(bytes / 1000)} KB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** A run's diff; when it is too large to show, a notice and the download link instead of megabytes of DOM. */
export function PatchDiff({ patch }: { patch: ShownPatch }) {
  if (patch.diff !== null) return <DiffViewer diff={patch.diff} />;
  const size = patch.sizeBytes === null ? "" : ` (${formatBytes(patch.sizeBytes)})`;
  return (
    <p className="notice diff-too-large" role="note">
      This patch{size} is too large to show here.{" "}
      <a href={patch.downloadUrl} download>
        Download the patch
      </a>{" "}
      to review it.
    </p>
  );
}
