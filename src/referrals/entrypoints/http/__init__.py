"""The Litestar HTTP API (SPEC §2). Build it with :func:`create_app`."""

from referrals.entrypoints.http.app import create_app

__all__ = ["create_app"]
