"""Portal pages, one module per area."""
