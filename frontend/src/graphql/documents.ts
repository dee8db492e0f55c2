import { graphql } from "./generated";

// Every operation the SPA sends. GraphQL Code Generator types each one from schema/schema.graphql
// (`npm run codegen`); fragments are found by name, so a document never interpolates another.

export const USAGE_FIELDS = graphql(`
  fragment UsageFields on Usage {
    inputTokens
    outputTokens
    cacheReadTokens
    cacheWriteTokens
    costUsd
  }
`);

export const RESUMPTION_FIELDS = graphql(`
  fragment ResumptionFields on Resumption {
    reason
    fromTurn
    at
    cause
  }
`);

export const JOB_LIST_FIELDS = graphql(`
  fragment JobListFields on Job {
    id
    title
    status
    cursor
    createdAt
    updatedAt
    repositories {
      id
      status
    }
    usage {
      ...UsageFields
    }
  }
`);

export const RUN_FIELDS = graphql(`
  fragment RunFields on RepositoryRun {
    id
    index
    location
    status
    step
    attempt
    error {
      kind
      message
    }
    summary
    patch {
      # A diff over a megabyte comes back null: the page shows a notice and the download link
      # instead of fetching and rendering it (PatchDiff).
      diff(maxBytes: 1000000)
      sizeBytes
      filesChanged
      additions
      deletions
      downloadUrl
      files {
        path
        change
        additions
        deletions
        binary
      }
    }
    pullRequest {
      url
      number
      branch
      draft
      state
      checks
      reviewDecision
      mergeable
      syncedAt
    }
    validation {
      verdict
      checks {
        name
        status
        output
        preExisting
      }
    }
    usage {
      ...UsageFields
    }
    startedAt
    finishedAt
    resumptions {
      ...ResumptionFields
    }
    commandIsolation {
      filesystem
      network
      reason
    }
    attempts {
      attempt
      status
      step
      error {
        kind
        message
      }
      summary
      usage {
        ...UsageFields
      }
      startedAt
      finishedAt
      resumptions {
        ...ResumptionFields
      }
    }
  }
`);

export const JOB_DETAIL_FIELDS = graphql(`
  fragment JobDetailFields on Job {
    id
    title
    prompt
    kind
    output
    strategy
    model
    status
    cursor
    createdAt
    updatedAt
    usage {
      ...UsageFields
    }
    pullRequests {
      open
      draft
      merged
      closed
      checksFailing
    }
    repositories {
      ...RunFields
    }
  }
`);

export const SETTINGS_QUERY = graphql(`
  query Settings {
    settings {
      backend
      allowedRepositories
      maxRepositories
      models
      defaultModel
      commandsEnabled
      demo
      sampleRepositories
    }
  }
`);

export const CHECK_REPOSITORIES = graphql(`
  query CheckRepositories($repositories: [String!]!) {
    checkRepositories(repositories: $repositories) {
      reference
      location
      allowed
      problem
    }
  }
`);

export const JOBS_QUERY = graphql(`
  query Jobs($first: Int, $after: String, $status: JobStatus) {
    jobs(first: $first, after: $after, status: $status) {
      edges {
        cursor
        node {
          ...JobListFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const JOBS_UPDATED = graphql(`
  subscription JobsUpdated {
    jobsUpdated {
      ...JobListFields
    }
  }
`);

export const JOB_QUERY = graphql(`
  query Job($id: ID!) {
    job(id: $id) {
      ...JobDetailFields
    }
  }
`);

export const JOB_UPDATED = graphql(`
  subscription JobUpdated($id: ID!, $after: String) {
    jobUpdated(id: $id, after: $after) {
      ...JobDetailFields
    }
  }
`);

export const RUN_THREAD_QUERY = graphql(`
  query RunThread($id: ID!) {
    run(id: $id) {
      id
      thread {
        model
        turns
        system
        toolNames
        messages {
          index
          role
          usage {
            ...UsageFields
          }
          blocks {
            __typename
            ... on TextBlock {
              text
            }
            ... on ToolUseBlock {
              id
              name
              input
            }
            ... on ToolResultBlock {
              toolUseId
              content
              isError
            }
            ... on ThinkingBlock {
              thinking
            }
          }
        }
      }
    }
  }
`);

export const CREATE_JOB = graphql(`
  mutation CreateJob($input: CreateJobInput!) {
    createJob(input: $input) {
      __typename
      ... on Job {
        id
      }
      ... on InputError {
        message
        field
      }
    }
  }
`);

export const CANCEL_JOB = graphql(`
  mutation CancelJob($id: ID!) {
    cancelJob(id: $id) {
      ...JobDetailFields
    }
  }
`);

export const CONTINUE_RUN = graphql(`
  mutation ContinueRun($runId: ID!, $budget: BudgetInput!, $maxJobCostUsd: Float) {
    continueRun(runId: $runId, budget: $budget, maxJobCostUsd: $maxJobCostUsd) {
      __typename
      ... on InputError {
        message
        field
      }
      ... on Job {
        ...JobDetailFields
      }
    }
  }
`);

export const RETRY_REPOSITORIES = graphql(`
  mutation RetryRepositories($jobId: ID!, $runIds: [ID!]) {
    retryRepositories(jobId: $jobId, runIds: $runIds) {
      ...JobDetailFields
    }
  }
`);

export const REFRESH_PULL_REQUESTS = graphql(`
  mutation RefreshPullRequests($jobId: ID!) {
    refreshPullRequests(jobId: $jobId) {
      ...JobDetailFields
    }
  }
`);

export const PULL_REQUEST_ACTION = graphql(`
  mutation PullRequestAction(
    $jobId: ID!
    $action: PullRequestAction!
    $runIds: [ID!]
    $comment: String
    $dryRun: Boolean!
  ) {
    pullRequestAction(jobId: $jobId, action: $action, runIds: $runIds, comment: $comment, dryRun: $dryRun) {
      runId
      location
      number
      outcome
      message
    }
  }
`);
