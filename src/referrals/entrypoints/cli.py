"""The ``referrals`` command: serve, worker, migrate, and the operator commands."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from referrals.entrypoints.logs import configure_logging
from referrals.entrypoints.multiprocess import exposed_metrics
from referrals.entrypoints.operator_cli import (
    OPERATOR_COMMANDS,
    add_commands,
    run_operator_command,
)
from referrals.entrypoints.server import ServerLimits
from referrals.settings import VARIABLES, Settings, SettingsError, export_setting, load_settings

if TYPE_CHECKING:
    from referrals.adapters.sql.namespace import Namespace

DEFAULT_READY_URL = "http://127.0.0.1:8000/health/ready"
APP_FACTORY = "referrals.entrypoints.http.app:create_app"
WORKER_BROKER = "referrals.entrypoints.worker:worker_broker"


class Refused(Exception):
    """The command cannot run with these settings; the message says why."""


def _default(name: str) -> int:
    return int(next(v for v in VARIABLES if v.name == name).default())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="referrals",
        description="Phone-number login with SMS codes and a referral program. "
        "Settings come from REFERRALS_* environment variables (see docs/settings.md).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default: %(default)s)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API processes; more than 1 needs REFERRALS_REDIS_URL (default: %(default)s)",
    )
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument(
        "--app",
        default=APP_FACTORY,
        metavar="MODULE:APP",
        help="serve another ASGI app, or a factory of one, with the same server settings,"
        " e.g. a host app that mounts referrals (default: %(default)s)",
    )
    limits = ServerLimits(max_header_bytes=_default("MAX_HEADER_SIZE"))
    serve.add_argument(
        "--max-header-size",
        type=int,
        default=None,
        metavar="BYTES",
        help="largest request head (request line and headers); larger ones get 431 and"
        f" the connection is closed (default: REFERRALS_MAX_HEADER_SIZE, else"
        f" {limits.max_header_bytes})",
    )
    serve.add_argument(
        "--header-timeout",
        type=float,
        default=limits.header_timeout,
        metavar="SECONDS",
        help="time a client has to send a request head, and the longest idle keep-alive;"
        " then the connection is closed (default: %(default)s)",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=limits.max_connections,
        metavar="N",
        help="connections (so requests in flight) one API process serves at once; more"
        " wait in the listen queue (default: %(default)s)",
    )
    serve.add_argument(
        "--backlog",
        type=int,
        default=limits.backlog,
        metavar="N",
        help="connections the kernel queues beyond --max-connections before refusing"
        " (default: %(default)s)",
    )

    worker = commands.add_parser(
        "worker", help="run task workers that deliver SMS codes (needs REFERRALS_BROKER_URL)"
    )
    worker.add_argument(
        "--workers", type=int, default=1, help="worker processes (default: %(default)s)"
    )
    worker.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="serve the workers' Prometheus metrics at /metrics on this port"
        " (default: REFERRALS_METRICS_PORT; unset: none)",
    )
    worker.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        help="address the metrics port binds (default: %(default)s)",
    )
    worker.add_argument(
        "--concurrency",
        type=int,
        default=50,
        help="deliveries one worker process runs at once (default: %(default)s)",
    )

    commands.add_parser("migrate", help="bring the database schema up to date")
    add_commands(commands)

    health = commands.add_parser(
        "health",
        help="exit 0 if ready, 1 if not (for container probes): a running API's"
        " /health/ready, or with --worker what a worker needs",
    )
    health.add_argument(
        "--url",
        default=DEFAULT_READY_URL,
        help="the API's readiness URL (default: %(default)s)",
    )
    health.add_argument(
        "--worker",
        action="store_true",
        help="check a worker instead: the queue's Redis, the stores' Redis and the"
        " heartbeat file its processes touch (REFERRALS_WORKER_HEARTBEAT)",
    )
    return parser


def serve(settings: Settings, args: argparse.Namespace) -> None:
    from referrals.adapters.sql.database import prepare_database
    from referrals.adapters.sql.schema import SchemaOutdated
    from referrals.application.errors import ServiceUnavailable
    from referrals.entrypoints import server

    if args.max_header_size is not None:  # the app's guard, in every worker, counts with it
        export_setting("MAX_HEADER_SIZE", args.max_header_size)
    limits = ServerLimits(
        max_header_bytes=args.max_header_size or settings.max_header_size,
        header_timeout=args.header_timeout,
        max_connections=args.max_connections,
        backlog=args.backlog,
    )
    problems = limits.problems()
    if args.workers < 1:
        problems.insert(0, "--workers must be at least 1")
    if problems:
        raise Refused("; ".join(problems))
    if args.workers > 1 and not settings.shared_stores:
        raise Refused(
            f"--workers {args.workers} needs REFERRALS_REDIS_URL: with in-process stores,"
            " codes and sessions would live in one process and be missing in the others"
        )
    try:  # before Granian, whose workers share the port, binds it too
        server.ensure_free(args.host, args.port)
    except server.AddressInUse as exc:
        raise Refused(str(exc)) from exc
    try:  # migrate SQLite, check PostgreSQL: once, before any worker starts
        asyncio.run(
            prepare_database(
                settings.database_url,
                _namespace(settings),
                timeout=settings.dependency_timeout,
                prepared_statements=not settings.db_transaction_pooler,
            )
        )
    except (SchemaOutdated, ServiceUnavailable) as exc:
        raise Refused(f"{exc} ({settings.database_url.split('@')[-1]})") from exc
    if settings.secret_key_generated:
        logging.getLogger("referrals").warning(
            "REFERRALS_SECRET_KEY is not set: a random key is used, so sessions and"
            " codes end with this process"
        )
    if settings.policy.pumping_mode == "off":
        logging.getLogger("referrals").warning(
            "REFERRALS_PUMPING_MODE=off: codes are not throttled by conversion, so an"
            " SMS-pumping attack is held only by the fixed limits and the spend cap"
        )
    try:  # a host's `app = Litestar(...)` is served as it is, a factory is called
        factory = args.app == APP_FACTORY or server.is_factory(args.app)
    except (ImportError, AttributeError) as exc:
        raise Refused(f"--app {args.app}: {exc}") from exc
    # X-Forwarded-For is believed only from REFERRALS_TRUSTED_PROXIES (the app reads
    # it); Granian passes the peer address through as it is.
    server.run(
        args.app,
        factory=factory,
        host=args.host,
        port=args.port,
        workers=args.workers,
        limits=limits,
        access_log=args.access_log,
        log_level=settings.log_level,
    )


def worker(settings: Settings, args: argparse.Namespace) -> int:
    from taskiq.cli.common_args import LogLevel
    from taskiq.cli.worker.args import WorkerArgs
    from taskiq.cli.worker.run import run_worker

    if settings.broker_url is None:
        raise Refused(
            "the worker needs REFERRALS_BROKER_URL; without it the API delivers codes"
            " in-process and no worker is needed"
        )
    if args.workers < 1 or args.concurrency < 1:
        raise Refused("--workers and --concurrency must be at least 1")
    status = run_worker(
        WorkerArgs(
            broker=WORKER_BROKER,
            modules=[],
            workers=args.workers,
            max_async_tasks=args.concurrency,
            log_level=LogLevel[settings.log_level],
            shutdown_timeout=15,
            wait_tasks_timeout=settings.delivery_lease,
        )
    )
    return status or 0


def health(settings: Settings, args: argparse.Namespace) -> int:
    from referrals.entrypoints.probe import probe_api, probe_worker

    if args.worker:
        if settings.broker_url is None:
            raise Refused("a worker needs REFERRALS_BROKER_URL: there is no worker to check")
        ready, report = asyncio.run(probe_worker(settings))
    else:
        ready, report = probe_api(args.url, timeout=settings.ready_timeout + 1)
    print(json.dumps(report))
    return 0 if ready else 1


def _namespace(settings: Settings) -> Namespace:
    from referrals.adapters.sql.namespace import Namespace

    return Namespace(settings.db_table_prefix, settings.db_schema)


def migrate(settings: Settings) -> None:
    from referrals.adapters.sql.database import run_migrations

    asyncio.run(
        run_migrations(
            settings.database_url,
            _namespace(settings),
            prepared_statements=not settings.db_transaction_pooler,
        )
    )
    print("The database schema is up to date.")


EXTRAS = {
    "litestar": "http",
    "msgspec": "http",
    "granian": "http",
    "sqlalchemy": "sqlite",
    "psycopg_pool": "postgres",
    "alembic": "sqlite",
    "psycopg": "postgres",
    "redis": "redis",
    "taskiq": "worker",
    "taskiq_redis": "worker",
    "prometheus_client": "http",
}
"""The extra that installs each optional top-level package."""


def _missing_extra(exc: ModuleNotFoundError) -> str:
    package = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(package)
    if extra is None:
        raise exc
    return (
        f"this needs the {extra!r} extra ({package} is not installed):"
        f" pip install 'referrals[{extra}]'"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings.log_level, json_lines=settings.log_json)
        if args.command == "serve":
            with exposed_metrics(settings, args.host, settings.metrics_port, always=True):
                serve(settings, args)
        elif args.command == "worker":
            port = args.metrics_port or settings.metrics_port
            with exposed_metrics(settings, args.metrics_host, port):
                return worker(settings, args)
        elif args.command in OPERATOR_COMMANDS:
            return run_operator_command(settings, args)
        elif args.command == "health":
            return health(settings, args)
        else:
            migrate(settings)
    except (SettingsError, Refused) as exc:
        print(f"referrals {args.command}: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        print(f"referrals {args.command}: {_missing_extra(exc)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
