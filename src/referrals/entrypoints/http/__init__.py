"""The Litestar HTTP API (docs/http-api.md): mount :class:`ReferralsPlugin` in your app,
or serve the standalone one from :func:`create_app`."""

from referrals.entrypoints.http.app import create_app
from referrals.entrypoints.http.handlers import PROBLEM_JSON, FieldError, Problem
from referrals.entrypoints.http.plugin import USER_ID_STATE, ReferralsPlugin

__all__ = [
    "PROBLEM_JSON",
    "USER_ID_STATE",
    "FieldError",
    "Problem",
    "ReferralsPlugin",
    "create_app",
]
