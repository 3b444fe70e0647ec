"""End-to-end tests of the HTTP API (SPEC §2) on the in-memory container."""
