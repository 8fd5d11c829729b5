"""HTTP for invoicing, one module per resource."""
