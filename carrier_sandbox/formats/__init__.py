"""One module per wire format: each renders the same histories in its carrier's own shape."""
