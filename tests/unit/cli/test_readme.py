"""The README's settings table names every setting the code reads; its command table, every command."""

from __future__ import annotations

import re
from pathlib import Path

import click
from pydantic import AliasChoices

from core.settings import Settings
from server.cli.main import app

README = Path(__file__).resolve().parents[3] / "README.md"


def _env_name(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"CODY_BATCH_{field.upper()}"


def test_every_setting_is_in_the_readme_table() -> None:
    # GIVEN the README WHEN each setting's variable is looked up THEN each has a table row
    rows = [line for line in README.read_text().splitlines() if line.startswith("| `")]
    missing = [
        _env_name(field) for field in Settings.model_fields if not any(f"`{_env_name(field)}`" in r for r in rows)
    ]
    assert missing == []


def _leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> dict[str, click.Command]:
    """Every runnable command under `group`, by its words after `cody-batch`."""
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        words = (*prefix, name)
        if isinstance(command, click.Group):
            found |= _leaf_commands(command, words)
        else:
            found[" ".join(words)] = command
    return found


def _command_rows() -> list[str]:
    """The usage cell of each row of the README's command-line table."""
    text = README.read_text()
    table = text[text.index("## The command line") :].split("\n\n")[1]
    cells = [re.split(r"(?<!\\)\|", row) for row in table.splitlines() if row.startswith("| `cody-batch ")]
    return [cell[1].strip().strip("`") for cell in cells]


def test_every_command_has_a_row_in_the_readme_naming_exactly_its_options() -> None:
    # GIVEN the CLI's commands and the README's command-line table
    commands = _leaf_commands(app)
    rows = _command_rows()
    # WHEN each command is looked up by its words, and its options in its rows
    words_of = {name: [row for row in rows if row.removeprefix("cody-batch ").startswith(name)] for name in commands}
    named = {name: set(re.findall(r"--[a-z][a-z-]*", " ".join(found))) for name, found in words_of.items()}
    options = {
        name: {o for p in command.params for o in p.opts if o.startswith("--")} for name, command in commands.items()
    }
    # THEN every command has a row, no row names an option its command lacks, and every option is named
    # (--url apart: the text under the table says which commands take it)
    assert [name for name, found in words_of.items() if not found] == []
    assert {name: sorted(named[name] - options[name]) for name in commands if named[name] - options[name]} == {}
    missing = {name: sorted(options[name] - named[name] - {"--help", "--url"}) for name in commands}
    assert {name: found for name, found in missing.items() if found} == {}
