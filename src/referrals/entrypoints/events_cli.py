"""``referrals events …`` and ``referrals endpoints …``: the outbox and its
webhooks for operators (docs/events.md). Each prints a table, or JSON with ``--json``."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from typing import Any

from referrals.application.webhook_desk import EndpointState, WebhookDesk
from referrals.application.webhooks import EventReport
from referrals.domain.errors import InvalidInput

EVENT_COMMANDS = frozenset({"events", "endpoints"})
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def add_event_commands(commands: Any, as_json: argparse.ArgumentParser) -> None:
    events = commands.add_parser("events", help="the outbox's events and their webhooks")
    actions = events.add_subparsers(dest="action", required=True, metavar="ACTION")
    listed = actions.add_parser("list", parents=[as_json], help="the newest events, newest first")
    listed.add_argument("--type", dest="kind", default=None, help="only this type")
    listed.add_argument("--since", default=None, help="a time: 2026-12-07T10:00Z, or 2h / 30m ago")
    listed.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    show = actions.add_parser(
        "show", parents=[as_json], help="one event: payload, each delivery and attempt"
    )
    show.add_argument("id", metavar="ID", help="the event's id (its webhook-id)")
    replay = actions.add_parser(
        "replay", parents=[as_json], help="send events again (dead letters included)"
    )
    replay.add_argument("--since", required=True, help="events since this time (or 2h / 30m ago)")
    replay.add_argument("--endpoint", default=None, help="only to this endpoint")
    dead = actions.add_parser("dead", parents=[as_json], help="events with a dead delivery")
    dead.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")

    endpoints = commands.add_parser("endpoints", help="the webhook endpoints")
    verbs = endpoints.add_subparsers(dest="action", required=True, metavar="ACTION")
    verbs.add_parser("list", parents=[as_json], help="every endpoint, its events, paused or not")
    for verb, what in (("pause", "hold its events until resumed"), ("resume", "send again")):
        one = verbs.add_parser(verb, parents=[as_json], help=what)
        one.add_argument("name", metavar="NAME")


def parse_time(text: str, now: float) -> float:
    """``2h`` / ``30m`` / ``3d`` / ``90s`` ago, seconds since the epoch, or an ISO 8601 time."""
    relative = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", text.strip())
    if relative:
        return now - float(relative.group(1)) * UNITS[relative.group(2)]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("since", f"--since {text!r}: expected 2h, 30m, 3d or a time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _time(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def _summary(report: EventReport) -> dict[str, Any]:
    event = report.event
    return {
        "id": event.id,
        "type": event.type,
        "at": _time(event.at),
        "user_id": event.user_id,
        "deliveries": " ".join(f"{d.endpoint}:{d.state}" for d in report.deliveries) or None,
    }


def _detail(report: EventReport) -> dict[str, Any]:
    return {
        **_summary(report),
        "data": report.event.data,
        "deliveries": [
            {
                "endpoint": d.endpoint,
                "state": str(d.state),
                "attempts": len(d.attempts),
                "next_at": _time(d.next_at),
            }
            for d in report.deliveries
        ],
        "attempts": [
            {
                "endpoint": d.endpoint,
                "at": _time(a.at),
                "status": a.status,
                "seconds": round(a.seconds, 3),
                "error": a.error,
            }
            for d in report.deliveries
            for a in d.attempts
        ],
    }


def _endpoint(state: EndpointState) -> dict[str, Any]:
    endpoint = state.endpoint
    return {
        "name": endpoint.name,
        "url": endpoint.url,
        "events": ",".join(sorted(endpoint.events)),
        "paused": state.paused,
    }


async def run_event_command(desk: WebhookDesk, args: argparse.Namespace) -> dict[str, Any]:
    now = desk.clock.now()
    if args.command == "endpoints":
        if args.action == "list":
            return {"endpoints": [_endpoint(state) for state in await desk.states()]}
        return _endpoint(await desk.pause(args.name, paused=args.action == "pause"))
    if args.action == "list":
        since = None if args.since is None else parse_time(args.since, now)
        reports = await desk.events(args.kind, since, args.limit)
        return {"events": [_summary(report) for report in reports]}
    if args.action == "show":
        return _detail(await desk.event(args.id))
    if args.action == "dead":
        return {"dead": [_summary(report) for report in await desk.dead(args.limit)]}
    replayed = await desk.replay(parse_time(args.since, now), args.endpoint)
    return {"replayed": replayed, "since": _time(parse_time(args.since, now))}
