"""The operator commands of ``referrals``: users, sessions, limits, deliveries,
stats, pumping, referrals (held ones), events and endpoints.

Each command resolves one use case from the container (as the HTTP API
does), runs it once, and prints a table, or JSON with ``--json``. Exit
status: 0 done, 1 no such user, 2 bad input or settings, 3 a dependency
did not answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from referrals.application.errors import ServiceUnavailable
from referrals.application.operations import UserNotFound
from referrals.domain.errors import InvalidInput
from referrals.entrypoints import operator_output as output
from referrals.entrypoints.events_cli import (
    EVENT_COMMANDS,
    add_event_commands,
    run_event_command,
)
from referrals.entrypoints.referrals_cli import (
    REFERRAL_COMMANDS,
    add_referral_commands,
    run_referral_command,
)
from referrals.settings import Settings

NOT_SHARED = (
    "REFERRALS_REDIS_URL is not set: sessions, limits, deliveries and activity live inside"
    " the serving process, out of this command's reach"
)


if TYPE_CHECKING:
    from referrals.container import Container


class Unreachable(Exception):
    """The command needs stores shared with the API (Redis)."""


def add_commands(commands: Any) -> None:
    """Add ``users``, ``sessions``, ``limits``, ``deliveries`` and ``stats`` to the parser."""
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON instead of a table")

    users = commands.add_parser("users", help="look users up").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    show = users.add_parser(
        "show",
        parents=[as_json],
        help="profile, referrer chain up to the root, referral count, active sessions",
    )
    show.add_argument("phone", metavar="PHONE", help="as people type it, e.g. 8 999 123-45-67")
    referred = users.add_parser(
        "referred", parents=[as_json], help="the users who applied someone's invite code (paged)"
    )
    referred.add_argument("owner", metavar="CODE|PHONE", help="the referrer's invite code or phone")
    referred.add_argument("--limit", type=int, default=None, help="page size (default 100)")
    referred.add_argument("--cursor", default=None, help="the next_cursor of the previous page")
    delete = users.add_parser(
        "delete",
        parents=[as_json],
        help="delete an account as its owner can: phone erased, sessions ended (docs/account.md)",
    )
    delete.add_argument("phone", metavar="PHONE")
    delete.add_argument("--yes", action="store_true", help="really delete it (it cannot be undone)")

    sessions = commands.add_parser("sessions", help="manage sessions").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    revoke = sessions.add_parser(
        "revoke", parents=[as_json], help="end every session of a user at once"
    )
    revoke.add_argument("phone", metavar="PHONE")

    limits = commands.add_parser("limits", help="manage rate limits").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    reset = limits.add_parser(
        "reset",
        parents=[as_json],
        help="lift a phone's locks: its codes sent, wrong codes and unknown invite codes",
    )
    reset.add_argument("phone", metavar="PHONE")

    deliveries = commands.add_parser(
        "deliveries", help="what became of login codes"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    shown = deliveries.add_parser(
        "show",
        parents=[as_json],
        help="a phone's last logins: route, channel, status, and each step's time",
    )
    shown.add_argument("phone", metavar="PHONE")
    shown.add_argument("--limit", type=int, default=10, help="logins to list (default 10)")

    stats = commands.add_parser(
        "stats",
        parents=[as_json],
        help="users, referrals, codes sent and verified over the last day (and by channel:"
        " sent, delivered, verified, conversion), top referrers",
    )
    stats.add_argument("--top", type=int, default=10, help="referrers to list (default 10)")
    pumping = commands.add_parser(
        "pumping", help="conversion-driven throttling: list, pin or lift groups"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    listed = pumping.add_parser(
        "list",
        parents=[as_json],
        help="groups throttled or marked now, with their codes sent and verified",
    )
    listed.add_argument("--all", action="store_true", help="every group counted")
    for action, what in (
        ("pin", "throttle a group whatever its figures"),
        ("lift", "never throttle a group"),
        ("clear", "let a group's figures decide again"),
    ):
        marked = pumping.add_parser(action, parents=[as_json], help=what)
        marked.add_argument("group", metavar="GROUP", help="net:…, prefix:+7999… or cc:7")
    add_event_commands(commands, as_json)
    add_referral_commands(commands, as_json)


OPERATOR_COMMANDS = (
    EVENT_COMMANDS
    | REFERRAL_COMMANDS
    | {
        "users",
        "sessions",
        "limits",
        "deliveries",
        "stats",
        "pumping",
    }
)
MARKS = {"pin": "pinned", "lift": "lifted", "clear": ""}


async def _run_events(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    from referrals.container import close, resolve
    from referrals.service import build_container

    container = build_container(settings)
    try:
        desk = await resolve(container.webhook_desk)
        if desk is None:
            raise Unreachable("the users' store is not this service's database: no outbox")
        return await run_event_command(desk, args)
    finally:
        await close(container)


async def _run(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    from referrals.container import close, resolve
    from referrals.service import build_container

    container = build_container(settings)
    try:
        if args.command == "users" and args.action == "show":
            report = await (await resolve(container.show_user))(args.phone)
            return output.user_report(report, sessions_known=settings.shared_stores)
        if args.command == "users" and args.action == "referred":
            list_referred = await resolve(container.list_referred)
            page = await list_referred(args.owner, args.cursor, args.limit)
            return output.referred_page(page)
        if args.command == "referrals":
            return await run_referral_command(await resolve(container.review_referrals), args)
        if args.command == "stats":
            if args.top < 0:
                raise InvalidInput("top", "--top must be 0 or more.")
            stats = await (await resolve(container.get_stats))(args.top)
            return output.stats(stats, activity_known=settings.shared_stores)
        if not settings.shared_stores:
            raise Unreachable(NOT_SHARED)
        return await _run_shared(container, args)
    finally:
        await close(container)


async def _run_shared(container: Container, args: argparse.Namespace) -> dict[str, Any]:
    """The commands that need the stores the API shares (Redis)."""
    from referrals.container import resolve

    if args.command == "pumping":
        groups = await resolve(container.pumping_groups)
        if args.action != "list":
            try:
                await groups.mark(args.group, MARKS[args.action])
            except ValueError as exc:
                raise InvalidInput("group", str(exc)) from None
            return {"group": args.group, "mark": MARKS[args.action]}
        now = (await resolve(container.clock)).now()
        return output.pumping(await groups.list(now, every=args.all))
    if args.command == "deliveries":
        found = await (await resolve(container.show_deliveries))(args.phone, args.limit)
        return output.deliveries(found)
    if args.command == "users":  # delete
        if not args.yes:
            raise InvalidInput("yes", "Deleting cannot be undone: add --yes to do it.")
        deleted = await (await resolve(container.delete_user))(args.phone)
        return output.user_deleted(deleted)
    if args.command == "sessions":
        revoked = await (await resolve(container.revoke_sessions))(args.phone)
        return output.sessions_revoked(revoked)
    reset = await (await resolve(container.reset_limits))(args.phone)
    return output.limits_reset(reset)


def run_operator_command(
    settings: Settings,
    args: argparse.Namespace,
    run: Callable[[Coroutine[Any, Any, dict[str, Any]]], dict[str, Any]] = asyncio.run,
) -> int:
    """Run one operator command; print its result (stdout) or why not (stderr)."""
    name = f"referrals {args.command}" + (f" {args.action}" if hasattr(args, "action") else "")
    try:
        events = args.command in EVENT_COMMANDS
        result = run(_run_events(settings, args) if events else _run(settings, args))
    except UserNotFound as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    except (InvalidInput, Unreachable) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    except ServiceUnavailable as exc:
        print(f"{name}: {exc}; try again", file=sys.stderr)
        return 3
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(output.table(result))
    return 0
