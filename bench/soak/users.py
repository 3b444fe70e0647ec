"""The users and referrals the database holds, against what the traffic was told.

Each verified phone is one user and every answer named that one; each code
answered 200 to an apply is recorded on that user, once, and counted once on
its owner; no chain of referrers closes a cycle.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import psycopg
from bench.soak.checks import Verdict
from bench.soak.journal import Journal


def _users(database_url: str) -> list[dict[str, Any]]:
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, row_factory=psycopg.rows.dict_row, connect_timeout=10) as db:
        return db.execute(
            "SELECT id, phone, invite_code, referrer_id, used_invite_code, referred_count"
            " FROM referrals_users"
        ).fetchall()


def check_users(journal: Journal, database_url: str, v: Verdict) -> None:
    rows = _users(database_url)
    by_id = {row["id"]: row for row in rows}
    per_phone = Counter(row["phone"] for row in rows)
    v.figure(f"users: {len(rows)}; phones verified by the traffic: {len(journal.users)}")
    for phone, count in per_phone.items():
        if count > 1:
            v.fail(f"{phone} has {count} users")
    for phone, ids in journal.users.items():
        stored = {row["id"] for row in rows if row["phone"] == phone}
        if len(ids) > 1 or ids != stored:
            v.fail(f"{phone}: answers named users {sorted(ids)}, the database has {sorted(stored)}")
    check_referrals(journal, by_id, v)


def check_referrals(journal: Journal, by_id: dict[int, dict[str, Any]], v: Verdict) -> None:
    referred = Counter(row["referrer_id"] for row in by_id.values() if row["referrer_id"])
    applied = {uid: codes for uid, codes in journal.applied.items() if codes}
    v.figure(
        f"referrals: {sum(referred.values())}; applies answered 200: "
        f"{sum(len(c) for c in applied.values())}"
    )
    for uid, codes in applied.items():
        row = by_id.get(uid)
        if len(codes) > 1:
            v.fail(f"user {uid} was answered 200 for {len(codes)} codes: {codes}")
        if row is None or row["used_invite_code"] != codes[0]:
            v.fail(f"user {uid} was answered 200 for {codes[0]}, database: {row}")
    unanswered = [u for u, row in by_id.items() if row["referrer_id"] and u not in applied]
    unexplained = [u for u in unanswered if u not in journal.uncertain_applies]
    v.figure(f"referrals recorded after a 503 (answer lost, write kept): {len(unanswered)}")
    if unexplained:
        v.fail(f"referrals no apply answered 200 for: {unexplained[:10]}")
    for uid, row in by_id.items():
        if referred[uid] != row["referred_count"]:
            v.fail(f"user {uid}: referred_count {row['referred_count']}, referred {referred[uid]}")
        referrer = by_id.get(row["referrer_id"]) if row["referrer_id"] else None
        if referrer is not None and referrer["invite_code"] != row["used_invite_code"]:
            v.fail(f"user {uid} refers to {referrer['id']} but used {row['used_invite_code']}")
    cycles = _cycles(by_id)
    v.figure(f"referral cycles: {len(cycles)}; longest chain: {_longest_chain(by_id)}")
    v.failures.extend(f"referral cycle through users {cycle}" for cycle in cycles)


def _cycles(by_id: dict[int, dict[str, Any]]) -> list[list[int]]:
    found, cleared = [], set()
    for start in by_id:
        path, node = [], start
        while node is not None and node not in cleared:
            if node in path:
                found.append(path[path.index(node) :])
                break
            path.append(node)
            node = by_id[node]["referrer_id"]
        cleared.update(path)
    return found


def _longest_chain(by_id: dict[int, dict[str, Any]]) -> int:
    longest = 0
    for start in by_id:
        length, node, seen = 0, by_id[start]["referrer_id"], {start}
        while node is not None and node not in seen:
            seen.add(node)
            length, node = length + 1, by_id[node]["referrer_id"]
        longest = max(longest, length)
    return longest
