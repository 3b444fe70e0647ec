"""The servers the drill starts: the embedded default, and PostgreSQL + Redis
with two API processes (``referrals serve --workers 2``) and the taskiq worker.

Each gets the drill's settings (:func:`drill_env`): the webhook SMS channel
pointed at the drill's fake gateway, the client address taken from
``X-Forwarded-For`` (``REFERRALS_TRUSTED_PROXIES=127.0.0.1/32``), a price and
a spend cap, and every window of an hour or less divided by ``scale``, so an
hour of traffic runs in ``3600 / scale`` seconds of the wall clock.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.soak.stack import migrate
from tests.processes import free_port, started, wait_until_serving

from bench import benchlib

STACKS = ("embedded", "postgres+redis")
PRICES = "*=4.5"
CAP = 15_000
"""The day's spend cap, in the prices' unit (3,333 SMS at 4.5)."""
WIDE = 1_000_000
"""The country and global limits, lifted as an operator raises them to real traffic."""
MIN_VOLUME = 100


def drill_env(mode: str, gateway_url: str, scale: float, min_volume: int) -> dict[str, str]:
    """The settings of one run: ``mode`` is ``REFERRALS_PUMPING_MODE``."""

    def per(count: int, seconds: float) -> str:
        return f"{count}/{seconds / scale:g}"

    return {
        "REFERRALS_SECRET_KEY": secrets.token_hex(32),
        "REFERRALS_EXPOSE_CODES": "false",  # codes are read from the fake gateway
        "REFERRALS_SMS_GATEWAY": "webhook",
        "REFERRALS_SMS_WEBHOOK_URL": gateway_url,
        "REFERRALS_SMS_WEBHOOK_SECRET": "pumping-drill-webhook-secret",
        "REFERRALS_SMS_DELAY": "0-0",
        # The fake gateway answers at once: a late answer is the machine's load, and
        # retrying it would only add to that load.
        "REFERRALS_SMS_WEBHOOK_TIMEOUT": "30",
        "REFERRALS_TRUSTED_PROXIES": "127.0.0.1/32",
        "REFERRALS_LOG_LEVEL": "WARNING",
        "REFERRALS_PUMPING_MODE": mode,
        "REFERRALS_PUMPING_WINDOW": f"{3600 / scale:g}",
        "REFERRALS_PUMPING_MIN_VOLUME": str(min_volume),
        "REFERRALS_SMS_PRICES": PRICES,
        "REFERRALS_SPEND_CAP": f"{CAP}/86400",
        "REFERRALS_RESEND_COOLDOWN": f"{60 / scale:g}",
        "REFERRALS_LIMIT_IP_SEND": per(30, 3600),
        "REFERRALS_LIMIT_IP_VERIFY": per(60, 300),
        "REFERRALS_LIMIT_PREFIX_SEND": per(50, 3600),
        "REFERRALS_LIMIT_NETWORK_SEND": per(60, 3600),
        "REFERRALS_LIMIT_COUNTRY_SEND": per(WIDE, 3600),
        "REFERRALS_LIMIT_GLOBAL_SEND": per(WIDE, 3600),
    }


@contextlib.contextmanager
def embedded(env: dict[str, str], logs: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``referrals serve`` with no store settings: SQLite file, in-process stores and queue."""
    env = env | {"REFERRALS_DATABASE_URL": f"sqlite:///{logs}/embedded.sqlite3"}
    port = free_port()
    with started(["serve", "--port", str(port)], env, logs / "embedded.log") as api:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, api, timeout=60)
        yield url, env


@contextlib.contextmanager
def postgres_redis(
    env: dict[str, str], logs: Path, database_url: str, redis_url: str
) -> Iterator[tuple[str, dict[str, str]]]:
    """``database_url`` (empty) migrated, a Redis prefix of its own (deleted
    after); two API processes and one worker."""
    with contextlib.ExitStack() as stop:
        prefix = f"pumping-drill-{secrets.token_hex(4)}:"
        stop.callback(benchlib.delete_redis_prefix, redis_url, prefix)
        env = env | {
            "REFERRALS_DATABASE_URL": database_url,
            "REFERRALS_REDIS_URL": redis_url,
            "REFERRALS_BROKER_URL": redis_url,
            "REFERRALS_REDIS_PREFIX": prefix,
        }
        migrate(env, logs / "migrate.log")
        port = free_port()
        serve = ["serve", "--port", str(port), "--workers", "2"]
        api = stop.enter_context(started(serve, env, logs / "api.log"))
        stop.enter_context(started(["worker"], env, logs / "worker.log"))
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, api, timeout=60)
        yield base, env


@dataclass(frozen=True)
class Servers:
    """Where ``postgres+redis`` keeps its data: an empty database of the run's
    own (``postgresql+psycopg://``) and a Redis server."""

    database_url: str
    redis_url: str


@contextlib.contextmanager
def stack(
    env: dict[str, str], logs: Path, servers: Servers | None
) -> Iterator[tuple[str, dict[str, str]]]:
    """The base URL of the stack (``embedded`` without ``servers``) and its settings."""
    logs.mkdir(parents=True, exist_ok=True)
    if servers is None:
        with embedded(env, logs) as found:
            yield found
    else:
        with postgres_redis(env, logs, servers.database_url, servers.redis_url) as found:
            yield found


@contextlib.contextmanager
def new_database(admin_url: str) -> Iterator[str]:
    """An empty database on the server of ``admin_url`` (libpq form), dropped after."""
    with benchlib.temporary_database(admin_url, "_pumping") as url:
        yield url.replace("postgresql://", "postgresql+psycopg://", 1)
