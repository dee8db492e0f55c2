"""Cost of tokens from the price table (USD per million tokens)."""

from __future__ import annotations

from core.models import Usage

# Unknown models are priced like the most expensive known tier rather than free,
# so a typo in a model name can never disable the cost budget.
_FALLBACK = {"input": 5.0, "output": 25.0, "cache_write": 6.25, "cache_read": 0.50}


def price_usage(
    prices: dict[str, dict[str, float]],
    model: str,
    *,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
) -> Usage:
    """A Usage with its cost filled in."""
    row = prices.get(model) or _FALLBACK
    cost = (
        input_tokens * row.get("input", 0.0)
        + output_tokens * row.get("output", 0.0)
        + cache_read_tokens * row.get("cache_read", 0.0)
        + cache_write_tokens * row.get("cache_write", 0.0)
    ) / 1_000_000
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read_tokens,
        cache_write_tokens=cache_write_tokens,
        cost_usd=round(cost, 6),
    )
