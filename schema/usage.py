"""Usage: tokens and cost, on messages, runs and jobs."""

from __future__ import annotations

import strawberry

from core import models


@strawberry.type(description="Tokens and cost in USD.")
class Usage:
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float

    @classmethod
    def from_model(cls, usage: models.Usage) -> Usage:
        return cls(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            cost_usd=usage.cost_usd,
        )
