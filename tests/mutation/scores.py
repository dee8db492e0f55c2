"""Mutation scores per module from the last `mutmut run`, as the table docs/TESTING.md records.

    .venv/bin/python -m tests.mutation.scores

Killed and timed-out mutants count as caught; survivors and mutants no test reaches count against
the score, which is over the checked mutants. Exits 1 when mutants are left unchecked or the score
of all modules together is under the goal.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

GOAL = 0.85
CAUGHT = frozenset({"killed", "timeout", "segfault"})
MISSED = frozenset({"survived", "no tests", "suspicious"})
MUTMUT = Path(sys.executable).with_name("mutmut")


def results() -> dict[str, str]:
    """Mutant name -> status, as `mutmut results --all true` lists them."""
    out = subprocess.run([str(MUTMUT), "results", "--all", "true"], capture_output=True, text=True, check=True)
    pairs = (line.strip().rsplit(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    return {name: status for name, status in pairs}


def module_of(mutant: str) -> str:
    """`core.locations.x__github__mutmut_8` -> `core/locations.py`."""
    return mutant.rsplit(".", 1)[0].replace(".", "/") + ".py"


def main() -> int:
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    missed: list[str] = []
    for name, status in sorted(results().items()):
        by_module[module_of(name)][status] += 1
        if status in MISSED:
            missed.append(f"{name}: {status}")
    print("| module | mutants | checked | caught | missed | score |\n|---|---:|---:|---:|---:|---:|")
    total = Counter[str]()
    for module, counts in sorted(by_module.items()):
        total.update(counts)
        print(_row(module, counts))
    print(_row("**all**", total))
    print("\nMissed mutants (`mutmut show NAME` prints the change):")
    print("\n".join(f"- {line}" for line in missed) or "- none")
    caught, lost = sum(total[s] for s in CAUGHT), sum(total[s] for s in MISSED)
    unchecked = sum(total.values()) - caught - lost
    if unchecked:
        print(f"\n{unchecked} mutants were not checked (an interrupted run?)")
        return 1
    return 0 if caught >= GOAL * (caught + lost) else 1


def _row(module: str, counts: Counter[str]) -> str:
    caught, lost = sum(counts[s] for s in CAUGHT), sum(counts[s] for s in MISSED)
    score = f"{caught / (caught + lost):.0%}" if caught + lost else "-"
    return f"| {module} | {sum(counts.values())} | {caught + lost} | {caught} | {lost} | {score} |"


if __name__ == "__main__":
    sys.exit(main())
