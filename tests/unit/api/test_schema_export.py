"""The committed schema/schema.graphql matches the schema in code."""

from __future__ import annotations

from schema.export import SDL_PATH, print_sdl


def test_committed_sdl_matches_code() -> None:
    # GIVEN the SDL printed from code WHEN compared with the committed file THEN they agree
    assert SDL_PATH.read_text() == print_sdl(), "schema drifted: run `make schema` and commit schema/schema.graphql"


def test_contract_names_are_in_the_sdl() -> None:
    sdl = print_sdl()
    for needle in [
        "job(id: ID!): Job",
        "jobs(first: Int = 20, after: String = null, status: JobStatus = null): JobConnection!",
        "createJob(input: CreateJobInput!): CreateJobPayload!",
        "union CreateJobPayload = Job | InputError",
        "union ContentBlock = TextBlock | ToolUseBlock | ToolResultBlock | ThinkingBlock",
        "jobUpdated(id: ID!, after: String = null): Job!",
        "jobsUpdated: Job!",
        "retryRepositories(jobId: ID!, runIds: [ID!] = null, reopenClosedPullRequests: Boolean! = false): Job!",
        "scalar DateTime",
    ]:
        assert needle in sdl
