"""The schema as SDL, as committed in schema/schema.graphql."""

from __future__ import annotations

from pathlib import Path

from schema.build import get_schema

SDL_PATH = Path(__file__).with_name("schema.graphql")


def print_sdl() -> str:
    """The SDL of the API schema, ending with a newline."""
    return get_schema().as_str().rstrip() + "\n"
