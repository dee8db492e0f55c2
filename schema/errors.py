"""How errors reach clients: domain messages kept, unknown ids coded, surprises masked."""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from core.errors import CodyBatchError, InputError, NotFoundError
from core.ids import new_id

logger = logging.getLogger("cody_batch.api")


def _is_expected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, GraphQLError | CodyBatchError)


def _coded(error: GraphQLError, code: str) -> GraphQLError:
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions={**(error.extensions or {}), "code": code},
    )


class ErrorPolicy(MaskErrors):
    """NotFoundError -> code NOT_FOUND; other domain errors keep their message;
    anything unexpected is masked as "Unexpected error; reference <id>" and logged with that id."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not _is_expected(error))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        reference = new_id()
        logger.error("Unexpected error; reference %s", reference, exc_info=error.original_error)
        return GraphQLError(
            f"Unexpected error; reference {reference}",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL", "reference": reference},
        )

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        out = []
        for error in super()._process_errors(errors):
            original = error.original_error
            if isinstance(original, NotFoundError):
                error = _coded(error, NotFoundError.code)
            elif isinstance(original, InputError):
                error = _coded(error, "BAD_USER_INPUT")
                if original.field and error.extensions is not None:
                    error.extensions["field"] = original.field
            out.append(error)
        return out
