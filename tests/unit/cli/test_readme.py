"""The README's settings table names every setting the code reads."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices

from core.settings import Settings

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
