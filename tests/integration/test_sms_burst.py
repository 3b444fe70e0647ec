"""A burst of codes through the embedded service's in-process queue, past the
webhook gateway's connections (docs/sending-codes.md, "A burst of codes")."""

from __future__ import annotations

import logging

import pytest

from referrals.application.request_code import CodeRequest
from referrals.service import Adapters, open_service
from referrals.settings import Settings
from tests.integration.sms_sink import sms_sink

SECRET = b"sms-burst-secret-0123456789abcdef"
CONNECTIONS = 2
CODES = CONNECTIONS * 5
ANSWER = 0.5
"""Seconds the gateway takes to answer each request."""
TIMEOUT = 3 * ANSWER
"""Per request: shorter than the wait of the burst's last requests for a
connection (4 answers of ``ANSWER`` before them), ample for one answer."""


async def test_a_burst_past_the_gateways_connections_waits_its_turn_and_each_code_goes_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    with sms_sink(script=[(200, ANSWER)] * CODES) as sink:
        settings = Settings(
            secret_key=SECRET,
            sms_gateway="webhook",
            sms_webhook_url=sink.url,
            sms_webhook_secret=SECRET,
            sms_webhook_timeout=TIMEOUT,
            sms_connections=CONNECTIONS,
        )
        async with open_service(settings, adapters=Adapters.in_memory()) as api:
            for i in range(CODES):
                await api.request_code(CodeRequest(f"+7999123450{i}", f"10.0.{i}.1"))
            assert await api.drain_deliveries(60)
    phones = sorted(request.json()["to"] for request in sink.received)
    assert phones == [f"+7999123450{i}" for i in range(CODES)]
    assert all(request.status == 200 for request in sink.received)
    troubles = [r.getMessage() for r in caplog.records if r.name.startswith("referrals")]
    assert troubles == []
