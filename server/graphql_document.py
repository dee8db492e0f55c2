"""Checks on a GraphQL document that Strawberry leaves to the caller."""

from __future__ import annotations

from graphql import GraphQLError, OperationDefinitionNode, parse


def ambiguous_operation(query: str | None, operation_name: str | None) -> str | None:
    """The GraphQL spec's GetOperation: several operations and no operationName is a request error.

    Returns the error message, or None when the operation to run is clear (or the document does
    not parse: execution reports that as the syntax error it is).
    """
    if operation_name is not None or not query:
        return None
    try:
        document = parse(query)
    except GraphQLError:
        return None
    operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
    if operations > 1:
        return "the document has several operations: name the one to run in operationName"
    return None
