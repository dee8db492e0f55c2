"""Mutation inputs and the InputError union member of createJob."""

from __future__ import annotations

from typing import Annotated

import strawberry

from core import errors, models
from core.services.jobs import JobRequest
from schema.enums import JobKind, OutputMode, Strategy
from schema.jobs import Job


@strawberry.input
class BudgetInput:
    max_turns: int | None = None
    max_tokens: int | None = None
    max_cost_usd: float | None = None

    def to_model(self) -> models.Budget:
        """The domain budget (unset limits stay None)."""
        return models.Budget(max_turns=self.max_turns, max_tokens=self.max_tokens, max_cost_usd=self.max_cost_usd)


@strawberry.input
class CreateJobInput:
    prompt: str
    repositories: list[str]
    title: str | None = None
    kind: JobKind = models.JobKind.CHANGE
    output: OutputMode = models.OutputMode.PATCH
    strategy: Strategy = models.Strategy.GENERIC
    model: str | None = None
    check_command: str | None = None
    budget: BudgetInput | None = None

    def to_request(self) -> JobRequest:
        return JobRequest(
            prompt=self.prompt,
            repositories=list(self.repositories),
            title=self.title,
            kind=self.kind,
            output=self.output,
            strategy=self.strategy,
            model=self.model,
            check_command=self.check_command,
            budget=(self.budget or BudgetInput()).to_model(),
        )


@strawberry.type(description="Why an input was refused; `field` is its path, e.g. repositories.2.")
class InputError:
    message: str
    field: str | None

    @classmethod
    def from_error(cls, error: errors.InputError) -> InputError:
        return cls(message=error.message, field=error.field)


CreateJobPayload = Annotated[Job | InputError, strawberry.union("CreateJobPayload")]
ContinueRunPayload = Annotated[Job | InputError, strawberry.union("ContinueRunPayload")]
