"""``referrals health``: readiness from the command line, for container probes.

Compose and Kubernetes run it as an exec probe (exit status 0: ready, 1:
not ready; the report goes to standard output as JSON):

* ``referrals health [--url URL]`` asks a running API's ``/health/ready``
  (default ``http://127.0.0.1:8000/health/ready``);
* ``referrals health --worker`` checks what a worker needs, with the
  worker's settings: the queue's Redis, the stores' Redis and the heartbeat
  file its processes touch (``REFERRALS_WORKER_HEARTBEAT``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from referrals.entrypoints import heartbeat
from referrals.settings import Settings

WORKER_DEPENDENCIES = ("redis", "broker")
"""What a worker delivers codes with (it never opens the database)."""


def probe_api(url: str, timeout: float) -> tuple[bool, dict[str, Any]]:
    """GET ``url``: ready when it answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 (our own URL)
            return answer.status == 200, _json(answer.read())
    except urllib.error.HTTPError as exc:
        return False, _json(exc.read())
    except (urllib.error.URLError, OSError) as exc:
        return False, {"status": "unreachable", "detail": f"{url}: {exc}"}


def _json(raw: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {"body": raw.decode(errors="replace")[:200]}
    return parsed if isinstance(parsed, dict) else {"body": parsed}


async def probe_worker(settings: Settings) -> tuple[bool, dict[str, Any]]:
    """Check the queue's Redis, the stores' Redis and the heartbeat."""
    from dependency_injector import providers

    from referrals.container import close, resolve
    from referrals.service import build_container

    container = build_container(settings)
    container.database.override(providers.Object(None))
    try:
        readiness = await resolve(container.readiness)
        report = await readiness.check(only=WORKER_DEPENDENCIES)
    finally:
        await close(container)
    checks: dict[str, Any] = {
        c.name: {"ok": c.ok, "latency_ms": c.latency_ms} | ({"error": c.error} if c.error else {})
        for c in report.checks
    }
    failed = list(report.failed)
    beat_age = heartbeat.age(settings.worker_heartbeat)
    beating = beat_age is not None and beat_age <= heartbeat.STALE_AFTER
    checks["heartbeat"] = {"ok": beating, "age_s": None if beat_age is None else round(beat_age, 1)}
    if not beating:
        checks["heartbeat"]["error"] = f"no worker has touched {settings.worker_heartbeat}" + (
            "" if beat_age is None else f" for {beat_age:.0f} s"
        )
        failed.append("heartbeat")
    if failed:
        detail = f"Not ready: {', '.join(failed)} did not answer."
        return False, {"status": "not_ready", "failed": failed, "detail": detail, "checks": checks}
    return True, {"status": "ready", "checks": checks}
