// Result shapes of the operations in documents.ts (hand-written; the schema test keeps them honest).

export type JobStatus = "QUEUED" | "RUNNING" | "SUCCEEDED" | "PARTIAL" | "FAILED" | "CANCELLED";
export type RunStatus =
  | "PENDING"
  | "CLONING"
  | "RUNNING_AGENT"
  | "VALIDATING"
  | "PUBLISHING"
  | "SUCCEEDED"
  | "NO_CHANGES"
  | "FAILED"
  | "CANCELLED";
export type AnyStatus = JobStatus | RunStatus;

export const JOB_STATUSES: JobStatus[] = ["QUEUED", "RUNNING", "SUCCEEDED", "PARTIAL", "FAILED", "CANCELLED"];
export const KINDS = ["CHANGE", "ANALYZE"] as const;
export const OUTPUTS = ["PATCH", "PULL_REQUEST", "DRAFT_PULL_REQUEST"] as const;
export const STRATEGIES = ["GENERIC", "BUGFIX", "REFACTOR", "DEPENDENCY_UPGRADE", "TESTS", "DOCS"] as const;

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
}

export interface ServerSettings {
  backend: string;
  allowedRepositories: string[];
  maxRepositories: number;
  models: string[];
  defaultModel: string;
  commandsEnabled: boolean;
  demo: boolean;
  /** Allowed sample repositories in the server's data dir, to try a first job on. */
  sampleRepositories: string[];
}

export interface RunError {
  kind: string;
  message: string;
}

export interface PatchFile {
  path: string;
  change: string;
  additions: number;
  deletions: number;
  binary: boolean;
}

export interface Patch {
  diff: string;
  filesChanged: number;
  additions: number;
  deletions: number;
  downloadUrl: string;
  files: PatchFile[];
}

export interface PullRequest {
  url: string;
  number: number;
  branch: string;
  draft: boolean;
}

export interface ValidationCheck {
  name: string;
  status: string;
  output: string;
}

export interface Validation {
  verdict: string;
  checks: ValidationCheck[];
}

export interface RunAttempt {
  attempt: number;
  status: RunStatus;
  step: string | null;
  error: RunError | null;
  summary: string | null;
  usage: Usage;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface RepositoryRun {
  id: string;
  index: number;
  location: string;
  status: RunStatus;
  step: string | null;
  attempt: number;
  error: RunError | null;
  summary: string | null;
  patch: Patch | null;
  pullRequest: PullRequest | null;
  validation: Validation | null;
  usage: Usage;
  startedAt: string | null;
  finishedAt: string | null;
  attempts: RunAttempt[];
}

export interface JobListItem {
  id: string;
  title: string;
  status: JobStatus;
  cursor: string;
  createdAt: string;
  updatedAt: string;
  repositories: { id: string; status: RunStatus }[];
  usage: Usage;
}

export interface JobDetail extends Omit<JobListItem, "repositories"> {
  prompt: string;
  kind: string;
  output: string;
  strategy: string;
  model: string;
  repositories: RepositoryRun[];
}

export type ContentBlock =
  | { __typename: "TextBlock"; text: string }
  | { __typename: "ToolUseBlock"; id: string; name: string; input: unknown }
  | { __typename: "ToolResultBlock"; toolUseId: string; content: string; isError: boolean }
  | { __typename: "ThinkingBlock"; thinking: string };

export interface ThreadMessage {
  index: number;
  role: string;
  usage: Usage | null;
  blocks: ContentBlock[];
}

export interface Thread {
  model: string;
  turns: number;
  /** The system prompt as sent, and the tools offered: what Claude was told, on record. */
  system: string;
  toolNames: string[];
  messages: ThreadMessage[];
}

export interface JobsData {
  jobs: {
    edges: { cursor: string; node: JobListItem }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

export interface JobData {
  job: JobDetail | null;
}

export interface RunThreadData {
  run: { id: string; thread: Thread | null } | null;
}

export type CreateJobPayload =
  { __typename: "Job"; id: string } | { __typename: "InputError"; message: string; field: string | null };

export interface CreateJobInput {
  prompt: string;
  repositories: string[];
  title?: string;
  kind?: string;
  output?: string;
  strategy?: string;
  model?: string;
  checkCommand?: string;
  budget?: { maxTurns?: number; maxTokens?: number; maxCostUsd?: number };
}
