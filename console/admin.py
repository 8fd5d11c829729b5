"""Admin pages that read across every app (registered last)."""
