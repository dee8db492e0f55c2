import { PullRequestStateBadge } from "./PullRequestPanel";
import { useState, type ReactNode } from "react";
import type { RepositoryRun } from "../graphql/types";
import { formatTime, humanize, sentence } from "../lib/format";
import { isFinished, isRetryable } from "../lib/runs";
import { CommandIsolationNote } from "./CommandIsolationNote";
import { DiffStat } from "./DiffViewer";
import { PatchDiff } from "./PatchDiff";
import { ContinueButton, isContinuable } from "./ContinueButton";
import { RetryButton } from "./RetryButton";
import { RunHistory } from "./RunHistory";
import { RunThread } from "./RunThread";
import { StatusBadge } from "./StatusBadge";
import { TextReport } from "./TextReport";
import { UsageSummary } from "./UsageSummary";
import { ValidationSummary } from "./ValidationSummary";

/** Lazily rendered <details>: the body mounts on first open (threads and big diffs cost). */
function Disclosure({ label, className, children }: { label: string; className?: string; children: () => ReactNode }) {
  const [opened, setOpened] = useState(false);
  return (
    <details className={className} onToggle={(e) => e.currentTarget.open && setOpened(true)}>
      <summary>{label}</summary>
      {opened && children()}
    </details>
  );
}

/** One repository of a job: live status and step, error, usage, summary, diff, PR, thread, history. */
export function RunCard({ run, jobId, cursor }: { run: RepositoryRun; jobId: string; cursor: string }) {
  return (
    <article
      id={`run-${run.id}`}
      className="card run-card"
      aria-labelledby={`run-${run.id}-title`}
      data-run-id={run.id}
    >
      <header className="run-head">
        <h3 id={`run-${run.id}-title`} className="location">
          {run.location}
        </h3>
        <StatusBadge status={run.status} step={run.step} />
        {run.step && !isFinished(run.status) && <span className="step">step: {humanize(run.step)}</span>}
        {isRetryable(run.status) && (
          <span className="run-actions">
            <RetryButton jobId={jobId} runIds={[run.id]} label={`Retry (attempt ${run.attempt + 1})`} />
            {run.status === "FAILED" && run.error && isContinuable(run.error.kind) && (
              <ContinueButton runId={run.id} kind={run.error.kind} />
            )}
          </span>
        )}
      </header>
      <p className="run-meta muted">
        Attempt {run.attempt}
        {run.startedAt && <> · started {formatTime(run.startedAt)}</>}
        {run.finishedAt && <> · finished {formatTime(run.finishedAt)}</>}
        {" · "}
        <UsageSummary usage={run.usage} label={`Usage of ${run.location}`} />
      </p>
      {run.error && (
        <p className="run-error" role="alert">
          <strong>{sentence(run.error.kind)}</strong>
          {run.step && <span> during {humanize(run.step)}</span>}: {run.error.message}
        </p>
      )}
      {run.summary && (
        <section className="summary" aria-label="Summary">
          <TextReport text={run.summary} />
        </section>
      )}
      {run.validation && <ValidationSummary validation={run.validation} />}
      {run.commandIsolation && <CommandIsolationNote isolation={run.commandIsolation} />}
      <div className="run-links">
        {run.patch && (
          <>
            <span>
              {run.patch.filesChanged} {run.patch.filesChanged === 1 ? "file" : "files"}{" "}
              <DiffStat additions={run.patch.additions} deletions={run.patch.deletions} />
            </span>
            <a href={run.patch.downloadUrl} download className="button">
              Download patch
            </a>
          </>
        )}
        {run.pullRequest && (
          <a href={run.pullRequest.url} target="_blank" rel="noreferrer" className="button">
            Pull request #{run.pullRequest.number}
          </a>
        )}
        {run.pullRequest && (
          <span className="pr-state">
            <PullRequestStateBadge state={run.pullRequest.state} /> checks {humanize(run.pullRequest.checks)} · review{" "}
            {humanize(run.pullRequest.reviewDecision)}
          </span>
        )}
      </div>
      {run.patch && (
        <Disclosure label="Diff" className="run-diff">
          {() => <PatchDiff patch={run.patch!} />}
        </Disclosure>
      )}
      <Disclosure label="Thread" className="run-thread">
        {() => <RunThread runId={run.id} cursor={cursor} />}
      </Disclosure>
      <RunHistory run={run} />
    </article>
  );
}
