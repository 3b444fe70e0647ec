"""OpenTelemetry: one trace from the HTTP request through the use case, the
database and Redis to the worker's delivery (its context carried in the
task's labels); nothing wrapped when tracing is off; a process without
OpenTelemetry runs on untraced."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from taskiq.receiver import Receiver

from referrals.adapters import tracing
from referrals.adapters.memory import RecordingSmsGateway
from referrals.adapters.sql import open_database
from referrals.application.policy import Policy
from referrals.entrypoints.http import create_app
from referrals.entrypoints.worker import build_worker_broker
from referrals.service import Adapters, open_service
from referrals.settings import Settings, tracing_wanted
from tests.defaults import DATABASE
from tests.namespaces import NAMESPACE

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"
PHONE = "+79990003333"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert tracing.start_tracing(SimpleSpanProcessor(exporter))
    try:
        yield exporter
    finally:
        tracing.stop_tracing()


async def _settings(tmp_path: Path, **changes: Any) -> Settings:
    database_url = f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3"
    await open_database(database_url, namespace=NAMESPACE, **DATABASE).migrate()
    return Settings(
        database_url=database_url,
        secret_key=b"tracing-test-secret-key-0123456789",
        policy=Policy(expose_codes=True),
        cookie_secure=False,
        **changes,
    )


def _in_trace(spans: InMemorySpanExporter) -> list[ReadableSpan]:
    return [
        s
        for s in spans.get_finished_spans()
        if s.context is not None and f"{s.context.trace_id:032x}" == TRACE_ID
    ]


@pytest.mark.redis
async def test_request_use_case_database_redis_and_delivery_share_one_trace(
    spans: InMemorySpanExporter, redis_server_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    settings = await _settings(
        tmp_path,
        redis_url=redis_server_url,
        broker_url=redis_server_url,
        redis_prefix=redis_prefix,
        tracing=True,
    )
    sms = RecordingSmsGateway()
    worker = build_worker_broker(settings, adapters=Adapters(sms_gateway=sms))
    worker.is_worker_process = True
    await worker.startup()
    messages = worker.listen()
    try:
        headers = {"traceparent": TRACEPARENT}
        async with AsyncTestClient(create_app(settings)) as client:
            login = await client.post("/api/login/", json={"phone": PHONE}, headers=headers)
            assert login.status_code == 200, login.text
            message = await asyncio.wait_for(anext(messages), 10)
            await Receiver(worker, run_startup=False).callback(message, raise_err=True)
            body = login.json()
            verify = await client.post(
                f"/api/verify/{body['token']}/",
                json={"confirm_code": body["confirm_code"]},
                headers=headers,
            )
            assert verify.status_code == 200, verify.text
    finally:
        await messages.aclose()
        await worker.shutdown()

    assert len(sms.sent) == 1
    traced = _in_trace(spans)
    names = {s.name for s in traced}
    servers = {s.name for s in traced if s.kind is SpanKind.SERVER}
    assert servers == {"POST /api/login", "POST /api/verify/{token}"}
    assert {"RequestCode", "Verify", "deliver_code", "DeliverCode"} <= names
    systems = {(s.attributes or {}).get("db.system") for s in traced}
    assert {"redis", "sqlite"} <= systems
    delivery = next(s for s in traced if s.name == "deliver_code")
    assert delivery.kind is SpanKind.CONSUMER
    assert all(body["token"] not in s.name for s in traced)


async def test_nothing_is_wrapped_when_tracing_is_off(tmp_path: Path) -> None:
    settings = await _settings(tmp_path)
    app = create_app(settings, adapters=Adapters.in_memory())
    async with AsyncTestClient(app) as client:
        assert (await client.get("/api/profile/")).status_code == 401
        assert "traced_requests" not in repr(app.asgi_handler)
    async with open_service(settings, adapters=Adapters.in_memory()) as service:
        assert not isinstance(service.verify, tracing.TracedUseCase)
    assert not tracing.active()


async def test_without_opentelemetry_the_api_runs_untraced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in [m for m in sys.modules if m.startswith("opentelemetry")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # import fails as if not installed
    settings = await _settings(tmp_path, tracing=True)
    app = create_app(settings, adapters=Adapters.in_memory())
    async with AsyncTestClient(app) as client:
        login = await client.post("/api/login/", json={"phone": PHONE})
        assert login.status_code == 200
    assert not tracing.active()
    assert "pip install 'referrals[tracing]'" in caplog.text


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_tracing_is_on_only_when_otel_variables_ask(environ: dict[str, str], wanted: bool) -> None:
    assert tracing_wanted(environ) is wanted
