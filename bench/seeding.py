"""The users the scenarios need, made through the API (and, for the million, SQL).

Phone ranges never meet: users signed in here are +7900…; the million's
owner is +79010000001 and its referrals +791…; the load scripts draw
+79[4-9]… at random.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import quote

import benchlib
import deep_pages
from benchlib import note

MILLION_OWNER = "+79010000001"
REFERRERS = 100
"""Users whose codes the apply scenario hands out in turn."""

MILLION_SQL = """
INSERT INTO referrals_users (id, phone, invite_code, referred_count, created_at)
VALUES (1, %(owner)s, %(owner_code)s, %(n)s, now() - interval '400 days');

INSERT INTO referrals_users (id, phone, invite_code, referrer_id, used_invite_code, referral_rank,
                   referred_count, created_at, referred_at)
SELECT g + 1, '+791' || lpad(g::text, 8, '0'), {code}, 1, %(owner_code)s, g,
       0, now() - interval '300 days', now() - (%(n)s - g) * interval '1 second'
FROM generate_series(1, %(n)s) AS g;

SELECT setval(pg_get_serial_sequence('referrals_users', 'id'),
              (SELECT max(id) FROM referrals_users));
"""


def million_phone(rank: int) -> str:
    return f"+791{rank:08d}"


def seed_million(url: str, n: int) -> float:
    """Bulk-insert the owner and ``n`` referrals; returns the seconds taken.

    Straight into the schema (``referrals_users`` of adapters/sql/tables.py), every CHECK
    and foreign key kept: ranks 1..n, invite codes the id in Crockford base32.
    """
    started = time.monotonic()
    sql = MILLION_SQL.format(code=deep_pages.invite_code_sql("(g + 1)"))
    params = {"owner": MILLION_OWNER, "owner_code": deep_pages.invite_code(1), "n": n}
    deep_pages.bulk_insert(url, sql, params)
    return time.monotonic() - started


def deep_cursor(port: int, token: str, rank: int) -> str:
    """The ``next_cursor`` after ``rank``: the known cursor format if the API confirms it
    (the page starts at the right phone), else found by paging (1,000 a page)."""
    guess = benchlib.encode_cursor(rank)
    page = benchlib.expect(port, "GET", profile_path(1, guess), token=token)
    if page["referred_users"] == [million_phone(rank + 1)]:
        return guess
    note("the cursor format changed: paging to the deep page through the API")
    seen, cursor = 0, ""
    deadline = time.monotonic() + 300
    while seen < rank:
        if time.monotonic() > deadline:
            raise SystemExit("paging to the deep cursor took over 300 s")
        page = benchlib.expect(port, "GET", profile_path(1000, cursor), token=token)
        seen += len(page["referred_users"])
        cursor = page["next_cursor"]
        if not cursor:
            raise SystemExit(f"the list ended after {seen:,} referrals, before {rank:,}")
    assert seen == rank, (seen, rank)
    return str(cursor)


def profile_path(limit: int, cursor: str = "") -> str:
    return f"/api/profile/?limit={limit}" + (f"&cursor={quote(cursor)}" if cursor else "")


@dataclass(frozen=True)
class Seeded:
    twenty: str
    """Session of a user with 20 referrals."""
    codes: list[str]
    """Invite codes of users who applied nothing: apply hands them out."""
    million: str | None = None
    """Session of the owner of the million, when seeded."""
    deep: str | None = None
    """The cursor after rank ``deep_rank`` of the million."""


def seed_api(port: int, *, million: int = 0, deep_rank: int = 0) -> Seeded:
    """Everything but the million itself, through the API (``port``)."""
    twenty = benchlib.seed_referrals(port, 20)
    codes = []
    for number in range(REFERRERS):
        _, verified = benchlib.sign_in(port, benchlib.seed_phone(1000 + number))
        codes.append(verified["user"]["invite_referral_code"])
    if not million:
        return Seeded(twenty, codes)
    owner, verified = benchlib.sign_in(port, MILLION_OWNER)
    assert verified["user"]["referred_users_count"] == million, verified["user"]
    cursor = deep_cursor(port, owner, deep_rank)
    page = benchlib.expect(port, "GET", profile_path(20, cursor), token=owner)
    assert page["referred_users"][0] == million_phone(deep_rank + 1), page
    return Seeded(twenty, codes, owner, cursor)
