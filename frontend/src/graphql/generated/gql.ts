/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment UsageFields on Usage {\n    inputTokens\n    outputTokens\n    cacheReadTokens\n    cacheWriteTokens\n    costUsd\n  }\n": typeof types.UsageFieldsFragmentDoc,
    "\n  fragment ResumptionFields on Resumption {\n    reason\n    fromTurn\n    at\n    cause\n  }\n": typeof types.ResumptionFieldsFragmentDoc,
    "\n  fragment JobListFields on Job {\n    id\n    title\n    status\n    cursor\n    createdAt\n    updatedAt\n    repositories {\n      id\n      status\n    }\n    usage {\n      ...UsageFields\n    }\n  }\n": typeof types.JobListFieldsFragmentDoc,
    "\n  fragment RunFields on RepositoryRun {\n    id\n    index\n    location\n    status\n    step\n    attempt\n    error {\n      kind\n      message\n    }\n    summary\n    patch {\n      # A diff over a megabyte comes back null: the page shows a notice and the download link\n      # instead of fetching and rendering it (PatchDiff).\n      diff(maxBytes: 1000000)\n      sizeBytes\n      filesChanged\n      additions\n      deletions\n      downloadUrl\n      files {\n        path\n        change\n        additions\n        deletions\n        binary\n      }\n    }\n    pullRequest {\n      url\n      number\n      branch\n      draft\n      state\n      checks\n      reviewDecision\n      mergeable\n      syncedAt\n    }\n    validation {\n      verdict\n      checks {\n        name\n        status\n        output\n        preExisting\n      }\n    }\n    usage {\n      ...UsageFields\n    }\n    startedAt\n    finishedAt\n    resumptions {\n      ...ResumptionFields\n    }\n    commandIsolation {\n      filesystem\n      network\n      reason\n    }\n    attempts {\n      attempt\n      status\n      step\n      error {\n        kind\n        message\n      }\n      summary\n      usage {\n        ...UsageFields\n      }\n      startedAt\n      finishedAt\n      resumptions {\n        ...ResumptionFields\n      }\n    }\n  }\n": typeof types.RunFieldsFragmentDoc,
    "\n  fragment JobDetailFields on Job {\n    id\n    title\n    prompt\n    kind\n    output\n    strategy\n    model\n    status\n    cursor\n    createdAt\n    updatedAt\n    usage {\n      ...UsageFields\n    }\n    pullRequests {\n      open\n      draft\n      merged\n      closed\n      checksFailing\n    }\n    repositories {\n      ...RunFields\n    }\n  }\n": typeof types.JobDetailFieldsFragmentDoc,
    "\n  query Settings {\n    settings {\n      backend\n      allowedRepositories\n      maxRepositories\n      models\n      defaultModel\n      commandsEnabled\n      demo\n      sampleRepositories\n    }\n  }\n": typeof types.SettingsDocument,
    "\n  query CheckRepositories($repositories: [String!]!) {\n    checkRepositories(repositories: $repositories) {\n      reference\n      location\n      allowed\n      problem\n    }\n  }\n": typeof types.CheckRepositoriesDocument,
    "\n  query Jobs($first: Int, $after: String, $status: JobStatus) {\n    jobs(first: $first, after: $after, status: $status) {\n      edges {\n        cursor\n        node {\n          ...JobListFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.JobsDocument,
    "\n  subscription JobsUpdated {\n    jobsUpdated {\n      ...JobListFields\n    }\n  }\n": typeof types.JobsUpdatedDocument,
    "\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobDetailFields\n    }\n  }\n": typeof types.JobDocument,
    "\n  subscription JobUpdated($id: ID!, $after: String) {\n    jobUpdated(id: $id, after: $after) {\n      ...JobDetailFields\n    }\n  }\n": typeof types.JobUpdatedDocument,
    "\n  query RunThread($id: ID!) {\n    run(id: $id) {\n      id\n      thread {\n        model\n        turns\n        system\n        toolNames\n        messages {\n          index\n          role\n          usage {\n            ...UsageFields\n          }\n          blocks {\n            __typename\n            ... on TextBlock {\n              text\n            }\n            ... on ToolUseBlock {\n              id\n              name\n              input\n            }\n            ... on ToolResultBlock {\n              toolUseId\n              content\n              isError\n            }\n            ... on ThinkingBlock {\n              thinking\n            }\n          }\n        }\n      }\n    }\n  }\n": typeof types.RunThreadDocument,
    "\n  mutation CreateJob($input: CreateJobInput!) {\n    createJob(input: $input) {\n      __typename\n      ... on Job {\n        id\n      }\n      ... on InputError {\n        message\n        field\n      }\n    }\n  }\n": typeof types.CreateJobDocument,
    "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      ...JobDetailFields\n    }\n  }\n": typeof types.CancelJobDocument,
    "\n  mutation ContinueRun($runId: ID!, $budget: BudgetInput!, $maxJobCostUsd: Float) {\n    continueRun(runId: $runId, budget: $budget, maxJobCostUsd: $maxJobCostUsd) {\n      __typename\n      ... on InputError {\n        message\n        field\n      }\n      ... on Job {\n        ...JobDetailFields\n      }\n    }\n  }\n": typeof types.ContinueRunDocument,
    "\n  mutation RetryRepositories($jobId: ID!, $runIds: [ID!]) {\n    retryRepositories(jobId: $jobId, runIds: $runIds) {\n      ...JobDetailFields\n    }\n  }\n": typeof types.RetryRepositoriesDocument,
    "\n  mutation RefreshPullRequests($jobId: ID!) {\n    refreshPullRequests(jobId: $jobId) {\n      ...JobDetailFields\n    }\n  }\n": typeof types.RefreshPullRequestsDocument,
    "\n  mutation PullRequestAction(\n    $jobId: ID!\n    $action: PullRequestAction!\n    $runIds: [ID!]\n    $comment: String\n    $dryRun: Boolean!\n  ) {\n    pullRequestAction(jobId: $jobId, action: $action, runIds: $runIds, comment: $comment, dryRun: $dryRun) {\n      runId\n      location\n      number\n      outcome\n      message\n    }\n  }\n": typeof types.PullRequestActionDocument,
};
const documents: Documents = {
    "\n  fragment UsageFields on Usage {\n    inputTokens\n    outputTokens\n    cacheReadTokens\n    cacheWriteTokens\n    costUsd\n  }\n": types.UsageFieldsFragmentDoc,
    "\n  fragment ResumptionFields on Resumption {\n    reason\n    fromTurn\n    at\n    cause\n  }\n": types.ResumptionFieldsFragmentDoc,
    "\n  fragment JobListFields on Job {\n    id\n    title\n    status\n    cursor\n    createdAt\n    updatedAt\n    repositories {\n      id\n      status\n    }\n    usage {\n      ...UsageFields\n    }\n  }\n": types.JobListFieldsFragmentDoc,
    "\n  fragment RunFields on RepositoryRun {\n    id\n    index\n    location\n    status\n    step\n    attempt\n    error {\n      kind\n      message\n    }\n    summary\n    patch {\n      # A diff over a megabyte comes back null: the page shows a notice and the download link\n      # instead of fetching and rendering it (PatchDiff).\n      diff(maxBytes: 1000000)\n      sizeBytes\n      filesChanged\n      additions\n      deletions\n      downloadUrl\n      files {\n        path\n        change\n        additions\n        deletions\n        binary\n      }\n    }\n    pullRequest {\n      url\n      number\n      branch\n      draft\n      state\n      checks\n      reviewDecision\n      mergeable\n      syncedAt\n    }\n    validation {\n      verdict\n      checks {\n        name\n        status\n        output\n        preExisting\n      }\n    }\n    usage {\n      ...UsageFields\n    }\n    startedAt\n    finishedAt\n    resumptions {\n      ...ResumptionFields\n    }\n    commandIsolation {\n      filesystem\n      network\n      reason\n    }\n    attempts {\n      attempt\n      status\n      step\n      error {\n        kind\n        message\n      }\n      summary\n      usage {\n        ...UsageFields\n      }\n      startedAt\n      finishedAt\n      resumptions {\n        ...ResumptionFields\n      }\n    }\n  }\n": types.RunFieldsFragmentDoc,
    "\n  fragment JobDetailFields on Job {\n    id\n    title\n    prompt\n    kind\n    output\n    strategy\n    model\n    status\n    cursor\n    createdAt\n    updatedAt\n    usage {\n      ...UsageFields\n    }\n    pullRequests {\n      open\n      draft\n      merged\n      closed\n      checksFailing\n    }\n    repositories {\n      ...RunFields\n    }\n  }\n": types.JobDetailFieldsFragmentDoc,
    "\n  query Settings {\n    settings {\n      backend\n      allowedRepositories\n      maxRepositories\n      models\n      defaultModel\n      commandsEnabled\n      demo\n      sampleRepositories\n    }\n  }\n": types.SettingsDocument,
    "\n  query CheckRepositories($repositories: [String!]!) {\n    checkRepositories(repositories: $repositories) {\n      reference\n      location\n      allowed\n      problem\n    }\n  }\n": types.CheckRepositoriesDocument,
    "\n  query Jobs($first: Int, $after: String, $status: JobStatus) {\n    jobs(first: $first, after: $after, status: $status) {\n      edges {\n        cursor\n        node {\n          ...JobListFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.JobsDocument,
    "\n  subscription JobsUpdated {\n    jobsUpdated {\n      ...JobListFields\n    }\n  }\n": types.JobsUpdatedDocument,
    "\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobDetailFields\n    }\n  }\n": types.JobDocument,
    "\n  subscription JobUpdated($id: ID!, $after: String) {\n    jobUpdated(id: $id, after: $after) {\n      ...JobDetailFields\n    }\n  }\n": types.JobUpdatedDocument,
    "\n  query RunThread($id: ID!) {\n    run(id: $id) {\n      id\n      thread {\n        model\n        turns\n        system\n        toolNames\n        messages {\n          index\n          role\n          usage {\n            ...UsageFields\n          }\n          blocks {\n            __typename\n            ... on TextBlock {\n              text\n            }\n            ... on ToolUseBlock {\n              id\n              name\n              input\n            }\n            ... on ToolResultBlock {\n              toolUseId\n              content\n              isError\n            }\n            ... on ThinkingBlock {\n              thinking\n            }\n          }\n        }\n      }\n    }\n  }\n": types.RunThreadDocument,
    "\n  mutation CreateJob($input: CreateJobInput!) {\n    createJob(input: $input) {\n      __typename\n      ... on Job {\n        id\n      }\n      ... on InputError {\n        message\n        field\n      }\n    }\n  }\n": types.CreateJobDocument,
    "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      ...JobDetailFields\n    }\n  }\n": types.CancelJobDocument,
    "\n  mutation ContinueRun($runId: ID!, $budget: BudgetInput!, $maxJobCostUsd: Float) {\n    continueRun(runId: $runId, budget: $budget, maxJobCostUsd: $maxJobCostUsd) {\n      __typename\n      ... on InputError {\n        message\n        field\n      }\n      ... on Job {\n        ...JobDetailFields\n      }\n    }\n  }\n": types.ContinueRunDocument,
    "\n  mutation RetryRepositories($jobId: ID!, $runIds: [ID!]) {\n    retryRepositories(jobId: $jobId, runIds: $runIds) {\n      ...JobDetailFields\n    }\n  }\n": types.RetryRepositoriesDocument,
    "\n  mutation RefreshPullRequests($jobId: ID!) {\n    refreshPullRequests(jobId: $jobId) {\n      ...JobDetailFields\n    }\n  }\n": types.RefreshPullRequestsDocument,
    "\n  mutation PullRequestAction(\n    $jobId: ID!\n    $action: PullRequestAction!\n    $runIds: [ID!]\n    $comment: String\n    $dryRun: Boolean!\n  ) {\n    pullRequestAction(jobId: $jobId, action: $action, runIds: $runIds, comment: $comment, dryRun: $dryRun) {\n      runId\n      location\n      number\n      outcome\n      message\n    }\n  }\n": types.PullRequestActionDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment UsageFields on Usage {\n    inputTokens\n    outputTokens\n    cacheReadTokens\n    cacheWriteTokens\n    costUsd\n  }\n"): (typeof documents)["\n  fragment UsageFields on Usage {\n    inputTokens\n    outputTokens\n    cacheReadTokens\n    cacheWriteTokens\n    costUsd\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ResumptionFields on Resumption {\n    reason\n    fromTurn\n    at\n    cause\n  }\n"): (typeof documents)["\n  fragment ResumptionFields on Resumption {\n    reason\n    fromTurn\n    at\n    cause\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobListFields on Job {\n    id\n    title\n    status\n    cursor\n    createdAt\n    updatedAt\n    repositories {\n      id\n      status\n    }\n    usage {\n      ...UsageFields\n    }\n  }\n"): (typeof documents)["\n  fragment JobListFields on Job {\n    id\n    title\n    status\n    cursor\n    createdAt\n    updatedAt\n    repositories {\n      id\n      status\n    }\n    usage {\n      ...UsageFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RunFields on RepositoryRun {\n    id\n    index\n    location\n    status\n    step\n    attempt\n    error {\n      kind\n      message\n    }\n    summary\n    patch {\n      # A diff over a megabyte comes back null: the page shows a notice and the download link\n      # instead of fetching and rendering it (PatchDiff).\n      diff(maxBytes: 1000000)\n      sizeBytes\n      filesChanged\n      additions\n      deletions\n      downloadUrl\n      files {\n        path\n        change\n        additions\n        deletions\n        binary\n      }\n    }\n    pullRequest {\n      url\n      number\n      branch\n      draft\n      state\n      checks\n      reviewDecision\n      mergeable\n      syncedAt\n    }\n    validation {\n      verdict\n      checks {\n        name\n        status\n        output\n        preExisting\n      }\n    }\n    usage {\n      ...UsageFields\n    }\n    startedAt\n    finishedAt\n    resumptions {\n      ...ResumptionFields\n    }\n    commandIsolation {\n      filesystem\n      network\n      reason\n    }\n    attempts {\n      attempt\n      status\n      step\n      error {\n        kind\n        message\n      }\n      summary\n      usage {\n        ...UsageFields\n      }\n      startedAt\n      finishedAt\n      resumptions {\n        ...ResumptionFields\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment RunFields on RepositoryRun {\n    id\n    index\n    location\n    status\n    step\n    attempt\n    error {\n      kind\n      message\n    }\n    summary\n    patch {\n      # A diff over a megabyte comes back null: the page shows a notice and the download link\n      # instead of fetching and rendering it (PatchDiff).\n      diff(maxBytes: 1000000)\n      sizeBytes\n      filesChanged\n      additions\n      deletions\n      downloadUrl\n      files {\n        path\n        change\n        additions\n        deletions\n        binary\n      }\n    }\n    pullRequest {\n      url\n      number\n      branch\n      draft\n      state\n      checks\n      reviewDecision\n      mergeable\n      syncedAt\n    }\n    validation {\n      verdict\n      checks {\n        name\n        status\n        output\n        preExisting\n      }\n    }\n    usage {\n      ...UsageFields\n    }\n    startedAt\n    finishedAt\n    resumptions {\n      ...ResumptionFields\n    }\n    commandIsolation {\n      filesystem\n      network\n      reason\n    }\n    attempts {\n      attempt\n      status\n      step\n      error {\n        kind\n        message\n      }\n      summary\n      usage {\n        ...UsageFields\n      }\n      startedAt\n      finishedAt\n      resumptions {\n        ...ResumptionFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobDetailFields on Job {\n    id\n    title\n    prompt\n    kind\n    output\n    strategy\n    model\n    status\n    cursor\n    createdAt\n    updatedAt\n    usage {\n      ...UsageFields\n    }\n    pullRequests {\n      open\n      draft\n      merged\n      closed\n      checksFailing\n    }\n    repositories {\n      ...RunFields\n    }\n  }\n"): (typeof documents)["\n  fragment JobDetailFields on Job {\n    id\n    title\n    prompt\n    kind\n    output\n    strategy\n    model\n    status\n    cursor\n    createdAt\n    updatedAt\n    usage {\n      ...UsageFields\n    }\n    pullRequests {\n      open\n      draft\n      merged\n      closed\n      checksFailing\n    }\n    repositories {\n      ...RunFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Settings {\n    settings {\n      backend\n      allowedRepositories\n      maxRepositories\n      models\n      defaultModel\n      commandsEnabled\n      demo\n      sampleRepositories\n    }\n  }\n"): (typeof documents)["\n  query Settings {\n    settings {\n      backend\n      allowedRepositories\n      maxRepositories\n      models\n      defaultModel\n      commandsEnabled\n      demo\n      sampleRepositories\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CheckRepositories($repositories: [String!]!) {\n    checkRepositories(repositories: $repositories) {\n      reference\n      location\n      allowed\n      problem\n    }\n  }\n"): (typeof documents)["\n  query CheckRepositories($repositories: [String!]!) {\n    checkRepositories(repositories: $repositories) {\n      reference\n      location\n      allowed\n      problem\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Jobs($first: Int, $after: String, $status: JobStatus) {\n    jobs(first: $first, after: $after, status: $status) {\n      edges {\n        cursor\n        node {\n          ...JobListFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query Jobs($first: Int, $after: String, $status: JobStatus) {\n    jobs(first: $first, after: $after, status: $status) {\n      edges {\n        cursor\n        node {\n          ...JobListFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobsUpdated {\n    jobsUpdated {\n      ...JobListFields\n    }\n  }\n"): (typeof documents)["\n  subscription JobsUpdated {\n    jobsUpdated {\n      ...JobListFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobDetailFields\n    }\n  }\n"): (typeof documents)["\n  query Job($id: ID!) {\n    job(id: $id) {\n      ...JobDetailFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobUpdated($id: ID!, $after: String) {\n    jobUpdated(id: $id, after: $after) {\n      ...JobDetailFields\n    }\n  }\n"): (typeof documents)["\n  subscription JobUpdated($id: ID!, $after: String) {\n    jobUpdated(id: $id, after: $after) {\n      ...JobDetailFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunThread($id: ID!) {\n    run(id: $id) {\n      id\n      thread {\n        model\n        turns\n        system\n        toolNames\n        messages {\n          index\n          role\n          usage {\n            ...UsageFields\n          }\n          blocks {\n            __typename\n            ... on TextBlock {\n              text\n            }\n            ... on ToolUseBlock {\n              id\n              name\n              input\n            }\n            ... on ToolResultBlock {\n              toolUseId\n              content\n              isError\n            }\n            ... on ThinkingBlock {\n              thinking\n            }\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query RunThread($id: ID!) {\n    run(id: $id) {\n      id\n      thread {\n        model\n        turns\n        system\n        toolNames\n        messages {\n          index\n          role\n          usage {\n            ...UsageFields\n          }\n          blocks {\n            __typename\n            ... on TextBlock {\n              text\n            }\n            ... on ToolUseBlock {\n              id\n              name\n              input\n            }\n            ... on ToolResultBlock {\n              toolUseId\n              content\n              isError\n            }\n            ... on ThinkingBlock {\n              thinking\n            }\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateJob($input: CreateJobInput!) {\n    createJob(input: $input) {\n      __typename\n      ... on Job {\n        id\n      }\n      ... on InputError {\n        message\n        field\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateJob($input: CreateJobInput!) {\n    createJob(input: $input) {\n      __typename\n      ... on Job {\n        id\n      }\n      ... on InputError {\n        message\n        field\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      ...JobDetailFields\n    }\n  }\n"): (typeof documents)["\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      ...JobDetailFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ContinueRun($runId: ID!, $budget: BudgetInput!, $maxJobCostUsd: Float) {\n    continueRun(runId: $runId, budget: $budget, maxJobCostUsd: $maxJobCostUsd) {\n      __typename\n      ... on InputError {\n        message\n        field\n      }\n      ... on Job {\n        ...JobDetailFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation ContinueRun($runId: ID!, $budget: BudgetInput!, $maxJobCostUsd: Float) {\n    continueRun(runId: $runId, budget: $budget, maxJobCostUsd: $maxJobCostUsd) {\n      __typename\n      ... on InputError {\n        message\n        field\n      }\n      ... on Job {\n        ...JobDetailFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RetryRepositories($jobId: ID!, $runIds: [ID!]) {\n    retryRepositories(jobId: $jobId, runIds: $runIds) {\n      ...JobDetailFields\n    }\n  }\n"): (typeof documents)["\n  mutation RetryRepositories($jobId: ID!, $runIds: [ID!]) {\n    retryRepositories(jobId: $jobId, runIds: $runIds) {\n      ...JobDetailFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RefreshPullRequests($jobId: ID!) {\n    refreshPullRequests(jobId: $jobId) {\n      ...JobDetailFields\n    }\n  }\n"): (typeof documents)["\n  mutation RefreshPullRequests($jobId: ID!) {\n    refreshPullRequests(jobId: $jobId) {\n      ...JobDetailFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PullRequestAction(\n    $jobId: ID!\n    $action: PullRequestAction!\n    $runIds: [ID!]\n    $comment: String\n    $dryRun: Boolean!\n  ) {\n    pullRequestAction(jobId: $jobId, action: $action, runIds: $runIds, comment: $comment, dryRun: $dryRun) {\n      runId\n      location\n      number\n      outcome\n      message\n    }\n  }\n"): (typeof documents)["\n  mutation PullRequestAction(\n    $jobId: ID!\n    $action: PullRequestAction!\n    $runIds: [ID!]\n    $comment: String\n    $dryRun: Boolean!\n  ) {\n    pullRequestAction(jobId: $jobId, action: $action, runIds: $runIds, comment: $comment, dryRun: $dryRun) {\n      runId\n      location\n      number\n      outcome\n      message\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;