"""Analytics writes."""
