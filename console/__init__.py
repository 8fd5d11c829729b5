"""The finance console: the admin dashboard and the pages that read across every app."""
