"""The GraphQL documents the CLI sends."""

from __future__ import annotations

RUN_FIELDS = """
fragment RunFields on RepositoryRun {
  id index location status step attempt
  error { kind message }
  resumptions { reason fromTurn at cause }
  commandIsolation { filesystem network reason }
  summary
  patch { filesChanged additions deletions downloadUrl }
  pullRequest { url number branch draft }
  usage { inputTokens outputTokens cacheReadTokens cacheWriteTokens costUsd }
  turns
  startedAt finishedAt
}
"""

JOB_FIELDS = (
    """
fragment JobFields on Job {
  id title prompt kind output strategy model status cursor createdAt updatedAt
  usage { inputTokens outputTokens cacheReadTokens cacheWriteTokens costUsd }
  repositories { ...RunFields }
}
"""
    + RUN_FIELDS
)

CREATE_JOB = (
    """
mutation CreateJob($input: CreateJobInput!) {
  createJob(input: $input) {
    __typename
    ... on Job { ...JobFields }
    ... on InputError { message field }
  }
}
"""
    + JOB_FIELDS
)

CONTINUE_RUN = (
    """
mutation ContinueRun($runId: ID!, $budget: BudgetInput!, $maxJobCostUsd: Float) {
  continueRun(runId: $runId, budget: $budget, maxJobCostUsd: $maxJobCostUsd) {
    __typename
    ... on Job { ...JobFields }
    ... on InputError { message field }
  }
}
"""
    + JOB_FIELDS
)

JOB = (
    """
query Job($id: ID!) { job(id: $id) { ...JobFields } }
"""
    + JOB_FIELDS
)

JOB_WITH_DIFFS = """
query JobDiffs($id: ID!) { job(id: $id) { id repositories { index location patch { diff } } } }
"""

JOBS = """
query Jobs($first: Int!, $status: JobStatus) {
  jobs(first: $first, status: $status) {
    edges { node { id title status createdAt usage { costUsd } repositories { status } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

JOB_UPDATED = (
    """
subscription JobUpdated($id: ID!, $after: String) { jobUpdated(id: $id, after: $after) { ...JobFields } }
"""
    + JOB_FIELDS
)

SERVER_DEMO = "query ServerDemo { settings { demo } }"
