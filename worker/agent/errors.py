"""Why an agent run stopped early; each `kind` becomes the run's RunError.kind."""

from __future__ import annotations


class AgentError(Exception):
    """An agent run that could not finish; `kind` names the reason for users and retries."""

    kind = "AGENT_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BudgetExceeded(AgentError):
    """The run (or its job) spent its token or USD budget."""

    kind = "BUDGET"


class TurnLimitReached(AgentError):
    """Claude took the maximum number of turns without finishing."""

    kind = "TURN_LIMIT"


class WallTimeExceeded(AgentError):
    """The loop ran longer than its wall-time limit."""

    kind = "TIMEOUT"


class ModelRefused(AgentError):
    """Claude declined the task (stop_reason `refusal`)."""

    kind = "REFUSAL"


class ContextOverflow(AgentError):
    """The conversation no longer fits the context window, even after trimming."""

    kind = "CONTEXT_OVERFLOW"


class ModelUnavailable(AgentError):
    """The API failed after bounded retries, or refused for auth, billing or spend limits."""

    kind = "MODEL_ERROR"


class OutputTruncated(AgentError):
    """Claude's replies kept hitting max_tokens (or pausing) without progress."""

    kind = "MAX_TOKENS"
