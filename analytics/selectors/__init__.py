"""Analytics reads."""
