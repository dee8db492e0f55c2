"""Limits on what one operation may ask: depth, tokens, aliases and page sizes.

Documents are parsed and validated once per distinct text (`DocumentCache` here, and
Strawberry's ValidationCache): a subscription opened by hundreds of clients costs one parse.
The limit rules are built once, so the validation cache's key (document, rules) repeats; the
token limit is a parse option, part of the parse cache's key, and a refused parse is not cached.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    IntValueNode,
    OperationDefinitionNode,
    ValidationRule,
    parse,
)
from strawberry.extensions import MaxTokensLimiter, SchemaExtension, ValidationCache
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from resolvers.jobs import MAX_EVENTS, MAX_PAGE

MAX_DEPTH = 12
MAX_TOKENS = 3000
MAX_ALIASES = 30
CACHED_DOCUMENTS = 256  # distinct operation texts kept parsed and validated (the SPA and CLI send about 20)

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


class SeveralOperationsRule(ValidationRule):
    """Several operations in one document: which to run must be named (the spec's GetOperation)."""

    def enter_document(self, node: DocumentNode, *_: Any) -> None:
        if sum(isinstance(d, OperationDefinitionNode) for d in node.definitions) > 1:
            self.report_error(GraphQLError("the document has several operations: name the one to run in operationName"))


# Built once: fresh rule classes per operation would make every validation cache key new.
LIMIT_RULES = (depth_rule(MAX_DEPTH, None), aliases_rule(MAX_ALIASES), PageSizeRule)


class LimitRules(SchemaExtension):
    """Adds the limit rules; without an operationName, a document must hold one operation
    (Strawberry alone runs the first)."""

    def on_operation(self) -> Iterator[None]:
        rules = (*self.execution_context.validation_rules, *LIMIT_RULES)
        # Before parsing, operation_name is exactly what the client sent.
        if self.execution_context.operation_name is None:
            rules = (*rules, SeveralOperationsRule)
        self.execution_context.validation_rules = rules
        yield


@lru_cache(maxsize=CACHED_DOCUMENTS)
def parse_document(query: str, **options: Any) -> DocumentNode:
    """The parsed document (shared: never modify it); GraphQLError when it does not parse."""
    return parse(query, **options)


class DocumentCache(SchemaExtension):
    """Parses through `parse_document`. Unlike Strawberry's ParserCache, a document that does not parse
    is left to Strawberry's own parse, which reports it as a request error instead of raising."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            with contextlib.suppress(GraphQLError):
                context.graphql_document = parse_document(context.query, **context.parse_options)
        yield


def limit_extensions() -> list[Callable[[], SchemaExtension]]:
    """Factories of the limit extensions every operation runs under (fresh per operation)."""
    return [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        LimitRules,
        DocumentCache,
        lambda: ValidationCache(maxsize=CACHED_DOCUMENTS),
    ]
