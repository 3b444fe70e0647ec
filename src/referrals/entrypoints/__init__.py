"""The edges: HTTP API, task worker and command line, all calling the same use cases."""
