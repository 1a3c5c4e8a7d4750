"""Credits: what a call costs, from the token estimate (`model/tokens.py`) and the
catalog's prices."""

from __future__ import annotations

from mockspike.contract.catalog import Model, cache_price_multipliers

#: 1 credit is one US cent at list price.
CREDITS_PER_USD = 100


def credits(
    model: Model,
    input_tokens: int,
    output_tokens: int,
    cache_read: int = 0,
    cache_write_5m: int = 0,
    cache_write_1h: int = 0,
) -> float:
    """What a call costs, in credits: uncached input, cache writes and reads at their
    multiples of the input price, and output."""
    times = cache_price_multipliers()
    weighted_input = (
        input_tokens
        + cache_write_5m * times["write_5m"]
        + cache_write_1h * times["write_1h"]
        + cache_read * times["read"]
    )
    usd = (weighted_input * model.price_input + output_tokens * model.price_output) / 1_000_000
    return usd * CREDITS_PER_USD


def format_credits(value: float) -> str:
    return f"{value:.6f}"
