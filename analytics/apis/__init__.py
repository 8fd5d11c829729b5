"""Analytics HTTP endpoints (staff only)."""
