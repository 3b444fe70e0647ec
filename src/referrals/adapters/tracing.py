"""OpenTelemetry traces, only when the standard ``OTEL_*`` variables ask for
them (``Settings.tracing``; see docs/operations.md).

Nothing here imports OpenTelemetry until :func:`start_tracing` runs, so a
process without the ``tracing`` extra, or with tracing off, pays nothing: no
wrapper is installed around requests, use cases, queries or Redis commands.
Once started (once per process): Redis commands and pipelines are traced by
``opentelemetry-instrumentation-redis``, SQL statements by
:class:`TracedExecutor` (the repository's one way to the driver), use cases
by :class:`TracedUseCase`, HTTP requests by the app's wrapper, and a queued
delivery continues the trace of the login that queued it (``traceparent``
in the task's labels, see :func:`inject` and :func:`extract`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.trace import Span, Tracer

log = logging.getLogger("referrals.tracing")

TRACER_NAME = "referrals"
_provider: TracerProvider | None = None


def active() -> bool:
    """Whether this process traces (:func:`start_tracing` ran and succeeded)."""
    return _provider is not None


def tracer() -> Tracer:
    if _provider is None:
        raise RuntimeError("tracing is not started")
    return _provider.get_tracer(TRACER_NAME)


def _exporter_processor() -> SpanProcessor:
    """A batch processor for the exporter ``OTEL_TRACES_EXPORTER`` names
    (``otlp``, the default, over HTTP; or ``console``). The exporter reads
    its own ``OTEL_EXPORTER_OTLP_*`` variables."""
    import os

    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    name = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",")[0].strip().lower()
    if name == "console":
        return BatchSpanProcessor(ConsoleSpanExporter())
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return BatchSpanProcessor(OTLPSpanExporter())


def start_tracing(processor: SpanProcessor | None = None) -> bool:
    """Start tracing in this process (idempotent): a tracer provider whose
    resource comes from ``OTEL_SERVICE_NAME``/``OTEL_RESOURCE_ATTRIBUTES``
    (service name ``referrals`` by default), spans handed to ``processor``
    (default: the exporter of the ``OTEL_*`` variables), Redis instrumented.
    ``False``, with a warning, when the ``tracing`` extra is not installed:
    the service runs on untraced."""
    global _provider  # noqa: PLW0603 - one provider per process, like OpenTelemetry's own
    if _provider is not None:
        return True
    try:
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError:
        log.warning(
            "OTEL_* variables ask for traces, but OpenTelemetry is not installed:"
            " pip install 'referrals[tracing]'; running without traces"
        )
        return False
    resource = Resource.create().merge(Resource({SERVICE_NAME: "referrals"}))
    if "unknown_service" not in str(Resource.create().attributes.get(SERVICE_NAME, "")):
        resource = Resource.create()  # OTEL_SERVICE_NAME given: it wins
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(processor or _exporter_processor())
    try:
        from opentelemetry.instrumentation.redis import RedisInstrumentor
    except ImportError:  # pragma: no cover - installed with the extra
        pass
    else:
        RedisInstrumentor().instrument(tracer_provider=provider)
    _provider = provider
    return True


def stop_tracing() -> None:
    """Flush and forget the provider, and take the Redis instrumentation off
    (for tests, and hosts that switch tracing off)."""
    global _provider  # noqa: PLW0603
    if _provider is None:
        return
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    RedisInstrumentor().uninstrument()
    _provider.shutdown()
    _provider = None


class TracedExecutor:
    """Runs a unit of work's statements, each in a client span with the
    statement's SQL (placeholders only: values are never recorded)."""

    __slots__ = ("_inner", "_system")

    def __init__(self, inner: Any, system: str) -> None:
        self._inner = inner
        self._system = system

    def _span(self, sql: str) -> AbstractContextManager[Span]:
        from opentelemetry.trace import SpanKind

        operation = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "SQL"
        return tracer().start_as_current_span(
            f"{operation} {self._system}",
            kind=SpanKind.CLIENT,
            attributes={"db.system": self._system, "db.statement": sql},
        )

    async def one(self, statement: Any, **values: Any) -> Any:
        with self._span(statement.sql):
            return await self._inner.one(statement, **values)

    async def all(self, statement: Any, **values: Any) -> Any:
        with self._span(statement.sql):
            return await self._inner.all(statement, **values)

    async def rowcount(self, statement: Any, **values: Any) -> Any:
        with self._span(statement.sql):
            return await self._inner.rowcount(statement, **values)


class TracedUseCase:
    """A use case whose every call is a span named after its class; other
    attributes pass through."""

    __slots__ = ("_inner", "_name")

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._name = type(inner).__name__

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with tracer().start_as_current_span(self._name, attributes={"code.function": self._name}):
            return await self._inner(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def inject() -> dict[str, str]:
    """The current trace context as ``traceparent`` (and ``tracestate``)
    entries, for a task's labels; empty when not tracing."""
    if _provider is None:
        return {}
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def extract(carrier: Mapping[str, Any]) -> Context:
    """The trace context :func:`inject` put in ``carrier``."""
    from opentelemetry import propagate

    return propagate.extract({k: str(v) for k, v in carrier.items()})


def continued(name: str, carrier: Mapping[str, Any]) -> AbstractContextManager[Span]:
    """A consumer span ``name`` in the trace :func:`inject` put in ``carrier``."""
    from opentelemetry.trace import SpanKind

    return tracer().start_as_current_span(name, context=extract(carrier), kind=SpanKind.CONSUMER)
