"""The agent loop: ask Claude, run the tools it calls, repeat until it ends its turn or a limit stops it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
from anthropic.types import Message as ApiMessage

from core.models import Message, Thread, Usage
from core.pricing import price_usage
from worker.agent.caching import messages_with_breakpoint, system_blocks, tools_with_breakpoint, trim_tool_results
from worker.agent.errors import (
    AgentError,
    BudgetExceeded,
    ContextOverflow,
    JobBudgetExceeded,
    ModelRefused,
    OutputTruncated,
    TurnLimitReached,
    WallTimeExceeded,
)
from worker.agent.messages import request_messages, storable
from worker.agent.model_errors import is_context_overflow, model_unavailable
from worker.agent.text_editor import OnDemandFiles
from worker.agent.tools import ToolBox
from worker.run_config import CommandSandbox

MAX_CONTINUATIONS = 3  # consecutive max_tokens / pause_turn turns before giving up
TRUNCATED_CALL = (
    "Your reply hit the max_tokens limit before this tool call was complete, so it was NOT executed. "
    "Continue with smaller steps: smaller edits, one file at a time."
)
TRUNCATED_TEXT = "Your reply was cut off by the max_tokens limit. Continue where you left off, in smaller steps."
# Anthropic's advice for an empty end_turn reply (it happens after tool results): ask once to go on.
EMPTY_REPLY = "Please continue."


@dataclass
class AgentConfig:
    """Model, prompt, tools and limits of one agent run."""

    model: str
    system_prompt: str
    max_turns: int
    max_tokens_per_call: int
    max_run_tokens: int
    max_cost_usd: float
    max_wall_seconds: float
    prices: dict[str, dict[str, float]]
    allow_commands: bool = False
    read_only: bool = False  # ANALYZE: only `view`
    command_timeout: float = 300.0
    spent_before_usd: float = 0.0  # other runs of the job, for the per-job budget
    max_job_cost_usd: float | None = None
    prompt_caching: bool = True
    secrets: tuple[str, ...] = ()  # the run's key and tokens, hidden from tool output
    command_sandbox: CommandSandbox = field(default_factory=CommandSandbox)


@dataclass
class AgentResult:
    """How a run ended: Claude's final text, the last stop reason, the thread's usage."""

    summary: str
    stop_reason: str
    usage: Usage
    turns: int = 0
    network_isolated: bool | None = None  # None: no command tool
    filesystem_isolated: bool | None = None  # None: no command tool


@dataclass
class _Turn:
    """Where the loop stands after one model reply."""

    done: bool = False
    results: list[dict[str, Any]] = field(default_factory=list)


class Agent:
    """One Claude conversation over one workspace, saved to `thread` after every turn."""

    def __init__(
        self,
        client: anthropic.Anthropic,
        config: AgentConfig,
        workspace: Path,
        thread: Thread,
        on_turn: Callable[[Thread], None],
        check_cancelled: Callable[[], None],
        before_tools: Callable[[], None] | None = None,
        files: OnDemandFiles | None = None,
    ) -> None:
        self.client = client
        # Called before the first tool runs in a turn: the workspace may still be cloning meanwhile.
        self.before_tools = before_tools or (lambda: None)
        self.config = config
        self.thread = thread
        self.on_turn = on_turn
        self.check_cancelled = check_cancelled
        self.tools = ToolBox(
            workspace,
            allow_commands=config.allow_commands,
            read_only=config.read_only,
            command_timeout=config.command_timeout,
            files=files,
            secrets=config.secrets,
            sandbox=config.command_sandbox,
        )
        thread.system = thread.system or system_blocks(config.system_prompt, config.prompt_caching)
        thread.tools = thread.tools or tools_with_breakpoint(self.tools.definitions, config.prompt_caching)
        self._started: float | None = None
        self._unbilled = Usage()  # replies thrown away (context overflow), billed with the next turn
        self._continuations = 0
        self._nudged = False

    def run(self, task: str) -> AgentResult:
        """Append `task` as a user message and loop until Claude ends its turn."""
        self._started = self._started or time.monotonic()
        self._append("user", [{"type": "text", "text": task}])
        return self._loop()

    def resume(self) -> AgentResult:
        """Go on from the stored thread: the next request starts where it ends, no answered turn asked again.

        A thread that ends with Claude's reply (a limit stopped the run before its tools ran) has
        that reply's tools run first; one that ends with Claude done is already finished."""
        self._started = self._started or time.monotonic()
        last = self.thread.messages[-1] if self.thread.messages else None
        if last is not None and last.role == "assistant":
            stop = last.stop_reason or "end_turn"
            if stop in ("end_turn", "stop_sequence"):
                return self._result()
            turn = self._act(stop, last.content)
            if turn.results:
                self._append("user", turn.results)
            self.on_turn(self.thread)
            if turn.done:
                return self._result()
        return self._loop()

    def _loop(self) -> AgentResult:
        self._continuations = 0
        self._nudged = False
        while True:
            self.check_cancelled()
            self._check_limits()
            if self._step():
                return self._result()

    # -- one turn -------------------------------------------------------------------------------

    def _step(self) -> bool:
        """One request and its consequences; True when Claude has finished."""
        response = self._call()
        stop = response.stop_reason or "end_turn"
        if stop == "model_context_window_exceeded":
            self._unbilled = self._unbilled + self._price(response)
            self._trim_or_raise()
            return False
        content = [block.model_dump(mode="json", exclude_none=True) for block in response.content]
        self._append("assistant", content, usage=self._price(response) + self._unbilled, stop_reason=stop)
        self._unbilled = Usage()
        self._nudged = self._nudged and not content
        if stop in ("end_turn", "stop_sequence"):
            if not content and not self._nudged:
                self._nudged = True
                self._append("user", [{"type": "text", "text": EMPTY_REPLY}])
                self.on_turn(self.thread)
                return False
            self.on_turn(self.thread)
            return True
        if stop == "refusal":
            self.on_turn(self.thread)
            raise ModelRefused(f"Claude declined the task: {_text(content) or 'no explanation given'}")
        try:
            self._check_budget()
        except BudgetExceeded:
            self.on_turn(self.thread)  # the reply that went over budget is recorded, and billed
            raise
        turn = self._act(stop, content)
        if turn.results:
            self._append("user", turn.results)
        self.on_turn(self.thread)
        if self._continuations > MAX_CONTINUATIONS:
            raise OutputTruncated(f"Claude's replies were cut off {self._continuations} times in a row.")
        return turn.done

    def _act(self, stop: str, content: list[dict[str, Any]]) -> _Turn:
        calls = [block for block in content if block.get("type") == "tool_use"]
        if calls:
            self.before_tools()
        if stop == "tool_use":
            self._continuations = 0
            return _Turn(results=[self.tools.run(call, self._time_left()) for call in calls])
        if stop == "pause_turn":  # the API wants the reply sent back as it is, to go on
            self._continuations += 1
            return _Turn()
        if stop == "max_tokens":
            self._continuations += 1
            # Only the last block can be cut off; a tool call that was cut off is never run.
            truncated = calls[-1] if calls and content[-1] is calls[-1] else None
            results = [
                _error_result(call, TRUNCATED_CALL) if call is truncated else self.tools.run(call, self._time_left())
                for call in calls
            ]
            note = [] if truncated else [{"type": "text", "text": TRUNCATED_TEXT}]
            return _Turn(results=[*results, *note])
        raise AgentError(f"Unexpected stop reason from the API: {stop!r}")

    def _call(self) -> ApiMessage:
        messages = request_messages([{"role": m.role, "content": m.content} for m in self.thread.messages])
        try:
            return self.client.messages.create(
                model=self.config.model,
                max_tokens=self.config.max_tokens_per_call,
                system=self.thread.system,  # type: ignore[arg-type]
                tools=self.thread.tools,  # type: ignore[arg-type]
                messages=messages_with_breakpoint(messages, self.config.prompt_caching),  # type: ignore[arg-type]
                timeout=self._timeout(),
            )
        except anthropic.APIStatusError as error:
            if not is_context_overflow(error):
                raise model_unavailable(error) from error
        except anthropic.APIConnectionError as error:
            if self._time_left() <= 0:
                raise WallTimeExceeded(self._wall_message()) from error
            raise model_unavailable(error) from error
        self._trim_or_raise()
        return self._call()

    def _trim_or_raise(self) -> None:
        messages = [{"role": m.role, "content": m.content} for m in self.thread.messages]
        if trim_tool_results(messages) == 0:
            raise ContextOverflow("The conversation no longer fits the model's context window.")

    # -- limits ---------------------------------------------------------------------------------

    def _check_limits(self) -> None:
        if self._time_left() <= 0:
            raise WallTimeExceeded(self._wall_message())
        if self.thread.turns >= self.config.max_turns:
            turns = self.config.max_turns
            raise TurnLimitReached(
                f"Claude used its {turns} turn{'s' if turns != 1 else ''} without finishing; "
                "continue the run with more turns to let it go on from here."
            )
        self._check_budget()

    def _check_budget(self) -> None:
        usage = self.thread.usage + self._unbilled
        job_limit = self.config.max_job_cost_usd
        if usage.total_tokens > self.config.max_run_tokens:
            raise BudgetExceeded(f"The run used {usage.total_tokens} tokens (limit {self.config.max_run_tokens}).")
        if usage.cost_usd > self.config.max_cost_usd:
            raise BudgetExceeded(f"The run cost ${usage.cost_usd:.4f} (limit ${self.config.max_cost_usd:.2f}).")
        if job_limit is not None and self.config.spent_before_usd + usage.cost_usd > job_limit:
            spent = self.config.spent_before_usd + usage.cost_usd
            raise JobBudgetExceeded(
                f"The job cost ${spent:.4f} (its limit ${job_limit:.2f}, all its runs together); "
                "continue the run with a higher job cost limit to let it go on from here."
            )

    def _time_left(self) -> float:
        started = self._started if self._started is not None else time.monotonic()
        return self.config.max_wall_seconds - (time.monotonic() - started)

    def _wall_message(self) -> str:
        return f"The agent ran longer than {self.config.max_wall_seconds:g} seconds."

    def _timeout(self) -> float | anthropic.NotGiven:
        # A request never outlives the run's wall time, but keeps a shorter client timeout.
        left = max(self._time_left(), 1.0)
        current = self.client.timeout
        return left if not isinstance(current, int | float) or left < current else anthropic.NOT_GIVEN

    # -- thread ---------------------------------------------------------------------------------

    def _append(self, role: str, content: list[dict[str, Any]], **fields: Any) -> None:
        # The tools ran on the content as it came; the thread keeps a copy that can be saved.
        message = Message(index=len(self.thread.messages), role=role, content=storable(content), **fields)
        self.thread.messages.append(message)

    def _price(self, response: ApiMessage) -> Usage:
        usage = response.usage
        return price_usage(
            self.config.prices,
            self.config.model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_input_tokens or 0,
            cache_write_tokens=usage.cache_creation_input_tokens or 0,
        )

    def _result(self) -> AgentResult:
        last = self.thread.messages[-1]
        return AgentResult(
            summary=_text(last.content),
            stop_reason=last.stop_reason or "end_turn",
            usage=self.thread.usage,
            turns=self.thread.turns,
            network_isolated=self.tools.network_isolated,
            filesystem_isolated=self.tools.filesystem_isolated,
        )


def _text(content: list[dict[str, Any]]) -> str:
    return "\n\n".join(block["text"] for block in content if block.get("type") == "text" and block.get("text")).strip()


def _error_result(call: dict[str, Any], message: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": call["id"], "content": message, "is_error": True}
