"""Limits on what one operation may ask: depth, tokens, aliases and page sizes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from graphql import DocumentNode, FieldNode, GraphQLError, IntValueNode, OperationDefinitionNode, ValidationRule
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


class SeveralOperationsRule(ValidationRule):
    """Several operations in one document: which to run must be named (the spec's GetOperation)."""

    def enter_document(self, node: DocumentNode, *_: Any) -> None:
        if sum(isinstance(d, OperationDefinitionNode) for d in node.definitions) > 1:
            self.report_error(GraphQLError("the document has several operations: name the one to run in operationName"))


class OperationChoice(SchemaExtension):
    """Without an operationName, a document must hold one operation; Strawberry alone runs the first."""

    def on_operation(self) -> Iterator[None]:
        # Before parsing, operation_name is exactly what the client sent.
        if self.execution_context.operation_name is None:
            rules = self.execution_context.validation_rules
            self.execution_context.validation_rules = (*rules, SeveralOperationsRule)
        yield


def limit_extensions() -> list[Callable[[], SchemaExtension]]:
    """Factories of the limit extensions every operation runs under (fresh per operation)."""
    return [
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: AddValidationRules([PageSizeRule]),
        OperationChoice,
    ]
