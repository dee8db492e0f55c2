"""The schema object: root types, scalars, limits and the error policy."""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.errors import ErrorPolicy
from schema.limits import limit_extensions
from schema.root import Mutation, Query, Subscription
from schema.scalars import SCALAR_MAP


class CodyBatchSchema(strawberry.Schema):
    """Strawberry's schema without its default error log: ErrorPolicy logs what is unexpected."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        return None


@cache
def get_schema() -> strawberry.Schema:
    """The one schema of the API (built on first use, then shared)."""
    extensions: list[Any] = [*limit_extensions(), ErrorPolicy]
    return CodyBatchSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
