"""Log records as JSON lines or text, with the request id, and settings that choose."""

from __future__ import annotations

import json
import logging

import pytest

from referrals.application.correlation import REQUEST_ID
from referrals.domain.phone import masked
from referrals.entrypoints.logs import AccessPathFilter, JsonFormatter, RequestIdFilter
from referrals.settings import Settings, load_settings
from tests.unit.test_production import PROD


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("referrals.test", logging.WARNING, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


def test_a_json_line_has_the_time_level_logger_message_request_id_and_extras() -> None:
    token = REQUEST_ID.set("req-7")
    try:
        line = JsonFormatter().format(record("sent to %s", "+7999***4567", outcome="sent"))
    finally:
        REQUEST_ID.reset(token)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["time"].endswith("Z")
    assert {k: entry[k] for k in ("level", "logger", "message", "request_id", "outcome")} == {
        "level": "WARNING",
        "logger": "referrals.test",
        "message": "sent to +7999***4567",
        "request_id": "req-7",
        "outcome": "sent",
    }


def test_a_traceback_stays_inside_its_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        made = record("failed")
        made.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(made))
    assert "ValueError: boom" in entry["exception"]


def test_the_filter_names_the_request_or_a_dash() -> None:
    outside = record("x")
    RequestIdFilter().filter(outside)
    token = REQUEST_ID.set("abc")
    try:
        inside = record("x")
        RequestIdFilter().filter(inside)
    finally:
        REQUEST_ID.reset(token)
    assert (outside.request_id, inside.request_id) == ("-", "abc")


def test_access_log_paths_hide_the_login_token() -> None:
    line = record("%(method)s %(path)s", path="/api/verify/abcdef0123/", method="POST")
    line.args = {"method": "POST", "path": "/api/verify/abcdef0123/"}
    AccessPathFilter().filter(line)
    assert line.getMessage() == "POST /api/verify/…/"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        (PROD, True),
        ({"REFERRALS_LOG_FORMAT": "json"}, True),
        ({**PROD, "REFERRALS_LOG_FORMAT": "text"}, False),
    ],
)
def test_json_lines_are_the_default_in_prod_and_settable(
    env: dict[str, str], expected: bool
) -> None:
    assert load_settings(env).log_json is expected


def test_a_phone_is_masked_in_the_middle() -> None:
    assert masked("+79991234567") == "+7999***4567"
    assert masked("+1") == "***"
    assert Settings().log_format == "auto"
