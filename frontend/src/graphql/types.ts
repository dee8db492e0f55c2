// The names the SPA uses for its operation types. Every shape comes from the generated module
// (GraphQL Code Generator over schema/schema.graphql, `npm run codegen`); nothing here restates
// the schema, it only names parts of what the operations select.
import {
  JobKind,
  JobStatus,
  OutputMode,
  PullRequestState,
  Strategy,
  type CheckRepositoriesQuery,
  type CreateJobMutation,
  type JobDetailFieldsFragment,
  type JobListFieldsFragment,
  type JobQuery,
  type JobsQuery,
  type PullRequestActionMutation,
  type RunFieldsFragment,
  type RunStatus,
  type RunThreadQuery,
  type SettingsQuery,
  type UsageFieldsFragment,
} from "./generated/graphql";

export type {
  CheckStatus,
  CreateJobInput,
  FileChange,
  JobKind,
  JobStatus,
  OutputMode,
  PullRequestAction,
  PullRequestState,
  RunStatus,
  Strategy,
} from "./generated/graphql";
export type AnyStatus = JobStatus | RunStatus;

// The schema's enum values, in the order the server declares them.
export const JOB_STATUSES: JobStatus[] = Object.values(JobStatus);
export const KINDS: JobKind[] = Object.values(JobKind);
export const OUTPUTS: OutputMode[] = Object.values(OutputMode);
export const PULL_REQUEST_STATES: PullRequestState[] = Object.values(PullRequestState);
export const STRATEGIES: Strategy[] = Object.values(Strategy);

export type Usage = UsageFieldsFragment;
export type ServerSettings = SettingsQuery["settings"];
export type RepositoryRun = RunFieldsFragment;
export type RunError = NonNullable<RepositoryRun["error"]>;
export type RunAttempt = RepositoryRun["attempts"][number];
export type Patch = NonNullable<RepositoryRun["patch"]>;
export type PatchFile = Patch["files"][number];
export type PullRequest = NonNullable<RepositoryRun["pullRequest"]>;
export type Validation = NonNullable<RepositoryRun["validation"]>;
export type ValidationCheck = Validation["checks"][number];
export type CommandIsolation = NonNullable<RepositoryRun["commandIsolation"]>;
export type JobListItem = JobListFieldsFragment;
export type JobDetail = JobDetailFieldsFragment;
export type Thread = NonNullable<NonNullable<RunThreadQuery["run"]>["thread"]>;
export type ThreadMessage = Thread["messages"][number];
export type ContentBlock = ThreadMessage["blocks"][number];
export type JobsData = JobsQuery;
export type JobData = JobQuery;
export type PullRequestTally = JobDetail["pullRequests"];
export type ActionResult = PullRequestActionMutation["pullRequestAction"][number];
export type RunThreadData = RunThreadQuery;
export type CreateJobPayload = CreateJobMutation["createJob"];
export type RepositoryCheck = CheckRepositoriesQuery["checkRepositories"][number];
