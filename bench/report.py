"""Write a benchmark's result into its marked section of docs/PERFORMANCE.md."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"


def write_section(name: str, body: str, doc: Path = DOC) -> None:
    """Replace the text between `<!-- name -->` and `<!-- /name -->` (appending the section if absent)."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = doc.read_text() if doc.exists() else "# Performance\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else f"{text.rstrip()}\n\n{block}\n"
    doc.write_text(text)


def command_line(description: str | None) -> argparse.Namespace:
    """The options every benchmark takes: `--help` (its docstring) and `--no-write`.

    Also refuses, saying how to run it, a Python without the project installed (the benchmarks start
    its console scripts beside `sys.executable`, as `make setup` puts them in `.venv/bin`).
    """
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-write", action="store_true", help="print the figures only; leave docs/PERFORMANCE.md")
    arguments = parser.parse_args()
    if not Path(sys.executable).with_name("cody-batch").exists():
        raise SystemExit(
            f"{sys.executable} has no cody-batch beside it: run the benchmark with the project's Python, "
            f"`.venv/bin/python {sys.argv[0]}` (`make setup` creates .venv)"
        )
    return arguments


def publish(name: str, body: str, arguments: argparse.Namespace) -> None:
    """Print a benchmark's result and, unless `--no-write`, record it in its section of docs/PERFORMANCE.md."""
    print(body)
    if not arguments.no_write:
        write_section(name, body)
