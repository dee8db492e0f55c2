import { Link } from "react-router-dom";
import { DiffStat } from "../components/DiffViewer";
import { PatchDiff } from "../components/PatchDiff";
import { ErrorNotice } from "../components/ErrorNotice";
import { StatusBadge } from "../components/StatusBadge";
import type { PatchFile, RepositoryRun } from "../graphql/types";
import { repositoryName } from "../lib/runs";
import { useLiveJob } from "./JobPage";

/** Per path, the +/- of each repository that changed it: one change across repos, read as one. */
export function fileMatrix(runs: RepositoryRun[]): { path: string; cells: (PatchFile | null)[] }[] {
  const paths = new Set<string>();
  for (const run of runs) for (const file of run.patch?.files ?? []) paths.add(file.path);
  return [...paths].sort().map((path) => ({
    path,
    cells: runs.map((run) => run.patch?.files.find((f) => f.path === path) ?? null),
  }));
}

/** One repository's change to one file: its kind when not a plain edit, and +/- unless binary. */
function MatrixCell({ file }: { file: PatchFile }) {
  const kind = file.binary ? "binary" : file.change === "MODIFIED" ? null : file.change.toLowerCase();
  return (
    <>
      {kind && <span className={`change change-${file.change.toLowerCase()}`}>{kind}</span>}{" "}
      {!file.binary && <DiffStat additions={file.additions} deletions={file.deletions} />}
    </>
  );
}

/** Every repository's diff on one page, with a file summary across repositories. */
export function ReviewPage() {
  const { id, job, error } = useLiveJob();
  if (job === null) return <ErrorNotice error={`No job with id ${id}.`} />;
  if (!job) return error ? <ErrorNotice error={error} /> : <p className="muted">Loading…</p>;
  const runs = job.repositories;
  const matrix = fileMatrix(runs);
  return (
    <section aria-labelledby="review-title">
      <div className="page-head">
        <h1 id="review-title">Review: {job.title}</h1>
        <Link className="button" to={`/jobs/${job.id}`}>
          Back to job
        </Link>
      </div>
      <h2>Files changed</h2>
      {matrix.length === 0 ? (
        <p className="muted">No repository has a patch yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="matrix">
            <thead>
              <tr>
                <th scope="col">File</th>
                {runs.map((run) => (
                  <th key={run.id} scope="col">
                    <a href={`#review-${run.id}`} title={run.location}>
                      {repositoryName(run.location)}
                    </a>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {matrix.map((row) => (
                <tr key={row.path}>
                  <th scope="row" className="diff-path">
                    {row.path}
                  </th>
                  {row.cells.map((cell, i) => (
                    <td key={runs[i].id}>{cell ? <MatrixCell file={cell} /> : <span className="muted">—</span>}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {runs.map((run) => (
        <section
          key={run.id}
          id={`review-${run.id}`}
          className="card review-run"
          aria-labelledby={`review-${run.id}-title`}
        >
          <header className="run-head">
            <h2 id={`review-${run.id}-title`} className="location">
              {run.location}
            </h2>
            <StatusBadge status={run.status} step={run.step} />
            {run.patch && <DiffStat additions={run.patch.additions} deletions={run.patch.deletions} />}
            {run.patch && (
              <a href={run.patch.downloadUrl} download className="button">
                Download patch
              </a>
            )}
          </header>
          {run.patch ? <PatchDiff patch={run.patch} /> : <p className="muted">No patch.</p>}
        </section>
      ))}
    </section>
  );
}
