"""The operator registry: one spec per operator, one module per family."""
