"""Token benchmark: billed input tokens of a 30-turn agent run with prompt caching vs without.

Billed input-token equivalents per request: input + 1.25 x cache writes + 0.1 x cache reads
(the API's price ratios). The same scripted run goes through the real agent loop and the
fake Messages API twice, with `prompt_caching` on and off. Goal: ratio <= 0.25.
Run: `python bench/token_bench.py`. The result goes to docs/PERFORMANCE.md (token-bench).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import anthropic  # noqa: E402

from bench.report import command_line, publish  # noqa: E402
from core.models import JobKind, Strategy, Thread, Usage  # noqa: E402
from core.settings import DEFAULT_MODEL, DEFAULT_PRICES  # noqa: E402
from tests.fakes.anthropic_server import FakeAnthropic, edit, text_turn, tool_turn, view  # noqa: E402
from worker.agent.loop import Agent, AgentConfig  # noqa: E402
from worker.agent.prompts import build_system_prompt  # noqa: E402

TURNS = 30
GOAL = 0.25
FILES = 10


def make_workspace(root: Path) -> None:
    """A small project: modules of ~60 lines each, what an agent typically reads."""
    for number in range(FILES):
        body = "\n".join(f"def function_{number}_{line}(value):\n    return value + {line}\n" for line in range(20))
        (root / f"module_{number}.py").write_text(f'"""Module {number}."""\n\n{body}')


def script() -> list[dict[str, object]]:
    """30 turns: read every module, edit some, re-read, then summarise."""
    turns: list[dict[str, object]] = [tool_turn(view("."), text="Let me look at the layout.")]
    for turn in range(1, TURNS - 1):
        module = f"module_{turn % FILES}.py"
        if turn % 3 == 0:
            old, new = f"return value + {turn % 20}\n", f"return value + {turn % 20}  # checked\n"
            turns.append(tool_turn(edit("str_replace", module, old_str=old, new_str=new), text=f"Editing {module}."))
        else:
            turns.append(tool_turn(view(module), text=f"Reading {module}."))
    turns.append(text_turn("Checked every module and annotated the reviewed returns."))
    return turns


def billed(usage: Usage) -> float:
    """Input-token equivalents the API bills for this usage."""
    return usage.input_tokens + 1.25 * usage.cache_write_tokens + 0.1 * usage.cache_read_tokens


def run_once(prompt_caching: bool) -> Usage:
    """The thread usage of one scripted run."""
    with FakeAnthropic() as fake, tempfile.TemporaryDirectory() as directory:
        workspace = Path(directory)
        make_workspace(workspace)
        fake.script(script())
        config = AgentConfig(
            model=DEFAULT_MODEL,
            system_prompt=build_system_prompt(Strategy.REFACTOR, JobKind.CHANGE, "bench/project", True),
            max_turns=TURNS + 5,
            max_tokens_per_call=8192,
            max_run_tokens=10_000_000,
            max_cost_usd=100.0,
            max_wall_seconds=600.0,
            prices=DEFAULT_PRICES,
            allow_commands=True,
            prompt_caching=prompt_caching,
        )
        client = anthropic.Anthropic(api_key=fake.api_key, base_url=fake.url, max_retries=0)
        thread = Thread(run_id="bench", model=DEFAULT_MODEL)
        result = Agent(client, config, workspace, thread, lambda _: None, lambda: None).run("Review every module.")
        assert result.turns == TURNS, result.turns
        return result.usage


def main() -> None:
    arguments = command_line(__doc__)
    cached, uncached = run_once(prompt_caching=True), run_once(prompt_caching=False)
    ratio = billed(cached) / billed(uncached)
    verdict = "meets" if ratio <= GOAL else "MISSES"
    line = (
        f"{TURNS}-turn scripted run: billed input-token equivalents {billed(cached):,.0f} with caching vs "
        f"{billed(uncached):,.0f} without; ratio **{ratio:.3f}** ({verdict} the goal <= {GOAL}). "
        f"Cost ${cached.cost_usd:.4f} vs ${uncached.cost_usd:.4f}. Tokens estimated by the fake as JSON length / 4; "
        "run `python bench/token_bench.py`."
    )
    publish("token-bench", line, arguments)


if __name__ == "__main__":
    main()
