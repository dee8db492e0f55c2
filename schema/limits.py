"""Limits on what one operation may ask: depth, tokens, aliases and page sizes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import FieldNode, GraphQLError, IntValueNode, ValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from resolvers.jobs import MAX_EVENTS, MAX_PAGE

MAX_DEPTH = 12
MAX_TOKENS = 3000
MAX_ALIASES = 30

# Root fields whose `first` argument is capped; a literal over the cap fails validation
# (HTTP 400 for graphql-response+json clients), a variable over it fails in the resolver.
PAGE_LIMITS = {"jobs": MAX_PAGE, "jobEvents": MAX_EVENTS}


class PageSizeRule(ValidationRule):
    """Refuse a literal `first` above the field's page limit."""

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        limit = PAGE_LIMITS.get(node.name.value)
        if limit is None:
            return
        for argument in node.arguments or ():
            value = argument.value
            if argument.name.value == "first" and isinstance(value, IntValueNode) and int(value.value) > limit:
                self.report_error(GraphQLError(f"first must be at most {limit}", argument))


def limit_extensions() -> list[Callable[[], SchemaExtension]]:
    """Factories of the limit extensions every operation runs under (fresh per operation)."""
    return [
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: AddValidationRules([PageSizeRule]),
    ]
