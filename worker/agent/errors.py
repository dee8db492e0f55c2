"""Why an agent run stopped early; each `kind` becomes the run's RunError.kind."""

from __future__ import annotations

from core.errors import RunErrorKind, RunFailure


class AgentError(RunFailure):
    """An agent run that could not finish; `kind` names the reason for users and retries."""

    kind = RunErrorKind.AGENT_ERROR


class BudgetExceeded(AgentError):
    """The run (or its job) spent its token or USD budget."""

    kind = RunErrorKind.BUDGET


class JobBudgetExceeded(BudgetExceeded):
    """The job's runs together spent its cost limit."""

    kind = RunErrorKind.JOB_BUDGET


class TurnLimitReached(AgentError):
    """Claude took the maximum number of turns without finishing."""

    kind = RunErrorKind.TURN_LIMIT


class WallTimeExceeded(AgentError):
    """The loop ran longer than its wall-time limit."""

    kind = RunErrorKind.TIMEOUT


class ModelRefused(AgentError):
    """Claude declined the task (stop_reason `refusal`)."""

    kind = RunErrorKind.REFUSAL


class ContextOverflow(AgentError):
    """The conversation no longer fits the context window, even after trimming."""

    kind = RunErrorKind.CONTEXT_OVERFLOW


class ModelUnavailable(AgentError):
    """The API failed after bounded retries, or refused for auth, billing or spend limits."""

    kind = RunErrorKind.MODEL_ERROR


class OutputTruncated(AgentError):
    """Claude's replies kept hitting max_tokens (or pausing) without progress."""

    kind = RunErrorKind.MAX_TOKENS
