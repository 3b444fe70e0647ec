"""End-to-end tests of the HTTP API (docs/http-api.md) on the in-memory container."""
