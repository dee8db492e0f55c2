import { useMemo } from "react";
import { parseDiff, type DiffFile } from "../lib/diff";
import { highlightLine, languageFor } from "../lib/highlight";

const SIGN = { add: "+", del: "-", ctx: " ", note: "" } as const;

// A file changing more lines than this starts closed: it would bury the other files (and costs to render).
export const LARGE_FILE_LINES = 400;

/** +N −M counts, coloured. */
export function DiffStat({ additions, deletions }: { additions: number; deletions: number }) {
  return (
    <span className="diffstat" aria-label={`${additions} additions, ${deletions} deletions`}>
      <span className="diffstat-add">+{additions}</span> <span className="diffstat-del">−{deletions}</span>
    </span>
  );
}

function FileDiff({ file, open }: { file: DiffFile; open: boolean }) {
  const language = languageFor(file.path);
  const large = file.additions + file.deletions > LARGE_FILE_LINES;
  return (
    <details className="diff-file" open={open && !large}>
      <summary>
        <span className={`change change-${file.change.toLowerCase()}`}>{file.change.toLowerCase()}</span>
        <span className="diff-path">
          {file.change === "RENAMED" && file.oldPath ? `${file.oldPath} → ${file.path}` : file.path}
        </span>
        <DiffStat additions={file.additions} deletions={file.deletions} />
        {large && <span className="muted diff-large">large change, open to show</span>}
      </summary>
      {file.binary ? (
        <p className="muted diff-binary">Binary file not shown.</p>
      ) : (
        <table className="diff-table">
          {file.hunks.map((hunk, h) => (
            <tbody key={h}>
              <tr className="diff-hunk">
                <td colSpan={3}>{hunk.header}</td>
              </tr>
              {hunk.lines.map((line, n) => (
                <tr key={n} className={`diff-line diff-${line.kind}`}>
                  <td className="diff-no" aria-hidden="true">
                    {line.oldNo ?? ""}
                  </td>
                  <td className="diff-no" aria-hidden="true">
                    {line.newNo ?? ""}
                  </td>
                  <td className="diff-code">
                    <span className="diff-sign" aria-hidden="true">
                      {SIGN[line.kind]}
                    </span>
                    {line.kind === "note" ? (
                      <span>{line.text}</span>
                    ) : (
                      <span dangerouslySetInnerHTML={{ __html: highlightLine(line.text, language) }} />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          ))}
        </table>
      )}
    </details>
  );
}

/** A unified diff, one collapsible section per file, syntax highlighted. */
export function DiffViewer({ diff, collapsed = false }: { diff: string; collapsed?: boolean }) {
  const files = useMemo(() => parseDiff(diff), [diff]);
  if (files.length === 0) return <p className="muted">No changes.</p>;
  return (
    <div className="diff" role="region" aria-label="Diff">
      {files.map((file, i) => (
        <FileDiff key={`${file.path}-${i}`} file={file} open={!collapsed} />
      ))}
    </div>
  );
}
