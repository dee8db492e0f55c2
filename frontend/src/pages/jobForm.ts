// The new-job form's state, its CreateJobInput, and where a server InputError belongs.
import type { CreateJobInput, JobKind, OutputMode, Strategy } from "../graphql/types";

export interface JobFormState {
  title: string;
  prompt: string;
  repositories: string;
  kind: JobKind;
  output: OutputMode;
  strategy: Strategy;
  model: string;
  checkCommand: string;
  maxTurns: string;
  maxCostUsd: string;
}

export type FormField =
  | "title"
  | "prompt"
  | "repositories"
  | "kind"
  | "output"
  | "strategy"
  | "model"
  | "checkCommand"
  | "maxTurns"
  | "maxCostUsd";

export function initialForm(model: string): JobFormState {
  return {
    title: "",
    prompt: "",
    repositories: "",
    kind: "CHANGE",
    output: "PATCH",
    strategy: "GENERIC",
    model,
    checkCommand: "",
    maxTurns: "",
    maxCostUsd: "",
  };
}

/** The non-empty lines of the repositories box. */
export function repositoryLines(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

/** The mutation input for a form state. */
export function toInput(form: JobFormState): CreateJobInput {
  const input: CreateJobInput = {
    prompt: form.prompt,
    repositories: repositoryLines(form.repositories),
    kind: form.kind,
    output: form.output,
    strategy: form.strategy,
  };
  if (form.title.trim()) input.title = form.title.trim();
  if (form.model) input.model = form.model;
  if (form.checkCommand.trim()) input.checkCommand = form.checkCommand.trim();
  const budget: NonNullable<CreateJobInput["budget"]> = {};
  if (form.maxTurns.trim()) budget.maxTurns = Number(form.maxTurns);
  if (form.maxCostUsd.trim()) budget.maxCostUsd = Number(form.maxCostUsd);
  if (Object.keys(budget).length) input.budget = budget;
  return input;
}

const FIELDS: Record<string, FormField> = {
  title: "title",
  prompt: "prompt",
  repositories: "repositories",
  kind: "kind",
  output: "output",
  strategy: "strategy",
  model: "model",
  checkCommand: "checkCommand",
  "budget.maxTurns": "maxTurns",
  "budget.maxCostUsd": "maxCostUsd",
  "budget.maxTokens": "maxCostUsd",
};

/**
 * The form field an InputError path belongs to ("repositories.2" -> repositories, line 3),
 * or null for an error about the whole job.
 */
export function fieldOfError(path: string | null | undefined): { field: FormField; line?: number } | null {
  if (!path) return null;
  const normalized = path.replace(/^input\./, "");
  const [head, index] = normalized.split(".");
  if (head === "repositories")
    return index !== undefined && /^\d+$/.test(index)
      ? { field: "repositories", line: Number(index) + 1 }
      : { field: "repositories" };
  const field = FIELDS[normalized] ?? FIELDS[head];
  return field ? { field } : null;
}
