import { gql } from "@apollo/client";

// Every operation the SPA sends; a vitest test validates them all against schema/schema.graphql.

export const USAGE_FIELDS = gql`
  fragment UsageFields on Usage {
    inputTokens
    outputTokens
    cacheReadTokens
    cacheWriteTokens
    costUsd
  }
`;

export const JOB_LIST_FIELDS = gql`
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
  ${USAGE_FIELDS}
`;

export const RUN_FIELDS = gql`
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
      diff
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
    }
    validation {
      verdict
      checks {
        name
        status
        output
      }
    }
    usage {
      ...UsageFields
    }
    startedAt
    finishedAt
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
    }
  }
  ${USAGE_FIELDS}
`;

export const JOB_DETAIL_FIELDS = gql`
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
    repositories {
      ...RunFields
    }
  }
  ${USAGE_FIELDS}
  ${RUN_FIELDS}
`;

export const SETTINGS_QUERY = gql`
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
`;

export const JOBS_QUERY = gql`
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
  ${JOB_LIST_FIELDS}
`;

export const JOBS_UPDATED = gql`
  subscription JobsUpdated {
    jobsUpdated {
      ...JobListFields
    }
  }
  ${JOB_LIST_FIELDS}
`;

export const JOB_QUERY = gql`
  query Job($id: ID!) {
    job(id: $id) {
      ...JobDetailFields
    }
  }
  ${JOB_DETAIL_FIELDS}
`;

export const JOB_UPDATED = gql`
  subscription JobUpdated($id: ID!, $after: String) {
    jobUpdated(id: $id, after: $after) {
      ...JobDetailFields
    }
  }
  ${JOB_DETAIL_FIELDS}
`;

export const RUN_THREAD_QUERY = gql`
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
  ${USAGE_FIELDS}
`;

export const CREATE_JOB = gql`
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
`;

export const CANCEL_JOB = gql`
  mutation CancelJob($id: ID!) {
    cancelJob(id: $id) {
      ...JobDetailFields
    }
  }
  ${JOB_DETAIL_FIELDS}
`;

export const RETRY_REPOSITORIES = gql`
  mutation RetryRepositories($jobId: ID!, $runIds: [ID!]) {
    retryRepositories(jobId: $jobId, runIds: $runIds) {
      ...JobDetailFields
    }
  }
  ${JOB_DETAIL_FIELDS}
`;
