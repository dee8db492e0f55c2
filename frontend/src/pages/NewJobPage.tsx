import { useMutation } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { CREATE_JOB } from "../graphql/documents";
import { KINDS, OUTPUTS, STRATEGIES, type CreateJobPayload, type ServerSettings } from "../graphql/types";
import { useRepositoryCheck, useSettings } from "../hooks";
import { humanize } from "../lib/format";
import { fieldOfError, initialForm, repositoryLines, toInput, type FormField, type JobFormState } from "./jobForm";

function Options({ values }: { values: readonly string[] }) {
  return values.map((value) => (
    <option key={value} value={value}>
      {humanize(value)}
    </option>
  ));
}

/** The new-job form, shown once the server settings are known. */
export function NewJobPage() {
  const { settings, error } = useSettings();
  if (error) return <ErrorNotice error={error} />;
  if (!settings) return <p className="muted">Loading…</p>;
  return <NewJobForm settings={settings} />;
}

export function NewJobForm({ settings }: { settings: ServerSettings }) {
  const navigate = useNavigate();
  const [form, setForm] = useState<JobFormState>(() => initialForm(settings.defaultModel));
  const [serverError, setServerError] = useState<{ field: FormField | null; message: string } | null>(null);
  const [touched, setTouched] = useState(false);
  const [createJob, { loading, error: networkError }] = useMutation<{ createJob: CreateJobPayload }>(CREATE_JOB);

  const lines = repositoryLines(form.repositories);
  // Copies of the sample (several repositories for one demo job) fill the field together, within the limit.
  const samples = settings.sampleRepositories.slice(0, settings.maxRepositories);
  const checks = useRepositoryCheck(lines);
  const overall =
    lines.length === 0
      ? "add at least one repository"
      : lines.length > settings.maxRepositories
        ? `at most ${settings.maxRepositories} repositories per job`
        : null;
  const lineProblems = checks
    .map((check, i) => (check?.problem ? `Line ${i + 1} (${lines[i]}): ${check.problem}` : null))
    .filter(Boolean);
  const repositoriesError =
    (touched || lines.length > 0) && (overall || lineProblems.length)
      ? [overall, ...lineProblems].filter(Boolean).join("\n")
      : null;

  const errorFor = (field: FormField) => (serverError?.field === field ? serverError.message : null);
  const update = (field: keyof JobFormState) => (event: { target: { value: string } }) => {
    setForm((prev) => ({ ...prev, [field]: event.target.value }));
    if (serverError?.field === field) setServerError(null);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    setServerError(null);
    const result = await createJob({ variables: { input: toInput(form) } }).catch(() => null);
    const payload = result?.data?.createJob;
    if (!payload) return;
    if (payload.__typename === "Job") {
      navigate(`/jobs/${payload.id}`);
      return;
    }
    const place = fieldOfError(payload.field);
    const message = place?.line ? `Line ${place.line}: ${payload.message}` : payload.message;
    setServerError({ field: place?.field ?? null, message });
  };

  return (
    <section aria-labelledby="new-job-heading">
      <h1 id="new-job-heading">New job</h1>
      <form className="job-form" onSubmit={submit} noValidate>
        <Field
          id="prompt"
          label="Instruction"
          error={errorFor("prompt")}
          hint="What Claude should do in every repository."
        >
          <textarea rows={6} required value={form.prompt} onChange={update("prompt")} />
        </Field>
        <Field id="strategy" label="Strategy" error={errorFor("strategy")}>
          <select value={form.strategy} onChange={update("strategy")}>
            <Options values={STRATEGIES} />
          </select>
        </Field>
        <Field
          id="repositories"
          label="Repositories"
          error={errorFor("repositories") ?? repositoriesError}
          hint={`One per line, at most ${settings.maxRepositories}: owner/name, a GitHub URL or an absolute path. Allowed: ${settings.allowedRepositories.join(", ")}`}
        >
          <textarea rows={4} required value={form.repositories} onChange={update("repositories")} spellCheck={false} />
        </Field>
        {samples.length > 0 && lines.length === 0 && (
          <p className="sample-hint">
            New here? Try the sample {samples.length === 1 ? "repository" : "repositories"}:{" "}
            <button
              type="button"
              className="link-button"
              onClick={() => update("repositories")({ target: { value: samples.join("\n") } })}
            >
              {samples.length === 1 ? `use ${samples[0]}` : `use the ${samples.length} sample repositories`}
            </button>
          </p>
        )}
        <Field
          id="title"
          label="Title"
          error={errorFor("title")}
          hint="Optional; derived from the instruction when empty."
        >
          <input type="text" value={form.title} onChange={update("title")} />
        </Field>
        <div className="field-row">
          <Field id="kind" label="Kind" error={errorFor("kind")}>
            <select value={form.kind} onChange={update("kind")}>
              <Options values={KINDS} />
            </select>
          </Field>
          <Field id="output" label="Output" error={errorFor("output")}>
            <select value={form.output} onChange={update("output")}>
              <Options values={OUTPUTS} />
            </select>
          </Field>
          <Field id="model" label="Model" error={errorFor("model")}>
            <select value={form.model} onChange={update("model")}>
              {settings.models.map((model) => (
                <option key={model} value={model}>
                  {model}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <Field
          id="checkCommand"
          label="Check command"
          error={errorFor("checkCommand")}
          hint={
            settings.commandsEnabled
              ? "Runs before and after the change for a verdict, e.g. pytest -q."
              : "Disabled: this server does not run commands (CODY_BATCH_ALLOW_COMMANDS is off)."
          }
        >
          <input
            type="text"
            value={form.checkCommand}
            onChange={update("checkCommand")}
            disabled={!settings.commandsEnabled}
          />
        </Field>
        <div className="field-row">
          <Field id="maxTurns" label="Max turns" error={errorFor("maxTurns")}>
            <input
              type="number"
              min={1}
              step={1}
              inputMode="numeric"
              value={form.maxTurns}
              onChange={update("maxTurns")}
            />
          </Field>
          <Field id="maxCostUsd" label="Max cost (USD)" error={errorFor("maxCostUsd")}>
            <input
              type="number"
              min={0}
              step={0.01}
              inputMode="decimal"
              value={form.maxCostUsd}
              onChange={update("maxCostUsd")}
            />
          </Field>
        </div>
        {serverError && serverError.field === null && <ErrorNotice error={serverError.message} />}
        <ErrorNotice error={networkError} />
        <div className="form-actions">
          <button type="submit" className="primary" disabled={loading}>
            {loading ? "Creating…" : "Create job"}
          </button>
        </div>
      </form>
    </section>
  );
}
