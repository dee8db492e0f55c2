"""Cost of a call from the price table: each kind of token at its own rate, unknown models never free."""

from __future__ import annotations

import pytest

from core.pricing import price_usage

PRICES = {"m": {"input": 1.0, "output": 2.0, "cache_read": 3.0, "cache_write": 4.0}}


@pytest.mark.parametrize(
    ("kind", "rate"),
    [("input_tokens", 1.0), ("output_tokens", 2.0), ("cache_read_tokens", 3.0), ("cache_write_tokens", 4.0)],
)
def test_each_kind_of_token_is_priced_at_its_own_rate(kind: str, rate: float) -> None:
    # GIVEN a price table with a different rate per kind WHEN a million tokens of one kind are priced
    usage = price_usage(PRICES, "m", **{kind: 1_000_000})
    # THEN the cost is that kind's rate, and the count is kept under its own name
    assert usage.cost_usd == rate
    assert getattr(usage, kind) == 1_000_000
    assert sum([usage.input_tokens, usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens]) == 1e6


def test_kinds_add_up() -> None:
    usage = price_usage(PRICES, "m", input_tokens=10, output_tokens=20, cache_read_tokens=30, cache_write_tokens=40)
    assert usage.cost_usd == pytest.approx((10 * 1 + 20 * 2 + 30 * 3 + 40 * 4) / 1e6)


def test_an_unknown_model_costs_as_much_as_the_dearest_tier_not_nothing() -> None:
    # GIVEN a model missing from the table (a typo) WHEN its tokens are priced
    usage = price_usage(PRICES, "claude-typo", input_tokens=1_000_000, output_tokens=1_000_000)
    # THEN it is priced at the fallback rates, so the cost budget still bites
    assert usage.cost_usd == 5.0 + 25.0
    assert price_usage(PRICES, "claude-typo", cache_read_tokens=1_000_000).cost_usd == 0.5
    assert price_usage(PRICES, "claude-typo", cache_write_tokens=1_000_000).cost_usd == 6.25


def test_a_single_token_is_priced_and_no_tokens_cost_nothing() -> None:
    assert price_usage({"m": {"input": 3.0}}, "m", input_tokens=1).cost_usd == 0.000003
    assert price_usage({"m": {"input": 3.0}}, "m", input_tokens=1, output_tokens=5).cost_usd == 0.000003
    assert price_usage(PRICES, "m").cost_usd == 0.0


@pytest.mark.parametrize("kind", ["input", "output", "cache_read", "cache_write"])
def test_a_kind_missing_from_a_row_costs_nothing(kind: str) -> None:
    # GIVEN a row without one kind's rate WHEN a million tokens of that kind are priced THEN they are free
    row = {k: 1.0 for k in ("input", "output", "cache_read", "cache_write") if k != kind}
    assert price_usage({"m": row}, "m", **{f"{kind}_tokens": 1_000_000}).cost_usd == 0.0


def test_costs_are_rounded_to_millionths_of_a_dollar() -> None:
    assert price_usage({"m": {"input": 0.3}}, "m", input_tokens=1).cost_usd == 0.0
    assert price_usage({"m": {"input": 0.3}}, "m", input_tokens=4).cost_usd == 0.000001
