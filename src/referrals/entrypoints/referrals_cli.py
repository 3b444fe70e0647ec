"""``referrals referrals …``: held referrals for operators (docs/rules.md,
"Referral integrity"). ``review`` lists them with the signals that held
them; ``approve ID`` applies one, ``void ID`` removes one (``ID``: the
user who applied the code). Each prints a table, or JSON with ``--json``."""

from __future__ import annotations

import argparse
from typing import Any

from referrals.application.operations import ReviewReferrals
from referrals.domain.errors import InvalidInput
from referrals.domain.user import User

REFERRAL_COMMANDS = frozenset({"referrals"})
MAX_LISTED = 1_000


def add_referral_commands(commands: Any, as_json: argparse.ArgumentParser) -> None:
    referrals = commands.add_parser(
        "referrals", help="held referrals: review them, approve or void one"
    )
    actions = referrals.add_subparsers(dest="action", required=True, metavar="ACTION")
    review = actions.add_parser(
        "review", parents=[as_json], help="held referrals with their signals, by user id"
    )
    review.add_argument("--after", type=int, default=0, help="only user ids above this")
    review.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    for verb, what in (
        ("approve", "apply it: the owner counts it and referral.applied is written"),
        ("void", "remove it: the user has no referrer and may apply a code again"),
    ):
        one = actions.add_parser(verb, parents=[as_json], help=what)
        one.add_argument("id", type=int, metavar="ID", help="the id of the user who applied it")


def held(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "phone": user.phone,
        "referrer_id": user.referrer_id,
        "invite_code": user.used_invite_code,
        "signals": ",".join(user.referral_signals) or None,
    }


async def run_referral_command(review: ReviewReferrals, args: argparse.Namespace) -> dict[str, Any]:
    if args.action == "review":
        if not 1 <= args.limit <= MAX_LISTED:
            raise InvalidInput("limit", f"--limit must be 1 to {MAX_LISTED}.")
        return {"held": [held(user) for user in await review.held(args.after, args.limit)]}
    if args.action == "approve":
        return {**held(await review.approve(args.id)), "decision": "approved"}
    return {**held(await review.void(args.id)), "decision": "voided"}
