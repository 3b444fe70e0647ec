"""The drill's invariants, checked once the traffic stopped and the queue drained.

* no 500, and no answer missing; a 503 only while PostgreSQL or a Redis
  server was away (plus ``grace`` seconds after it was back);
* every answer the contract allows (the traffic wrote down the others);
* each verified phone is one user; each applied code recorded once, on the
  user who was answered 200 for it, and counted once on its owner; no cycle;
* every code that was queued was delivered once, or was not delivered and
  expired or was superseded by a later login of that phone.

Each check adds figures to print and, when it fails, a failure.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import psycopg
from bench.soak.chaos import Outage
from bench.soak.journal import Journal
from bench.soak.stack import WEBHOOK_SECRET
from tests.integration.sms_sink import Received

SERVERS = {"postgres", "stores redis", "queue redis", "postgres frozen", "stores redis frozen"}
"""Outages the API may answer 503 for (a dead worker is not one of them)."""


@dataclass
class Verdict:
    figures: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def figure(self, line: str) -> None:
        self.figures.append(line)

    def fail(self, line: str) -> None:
        self.failures.append(line)


def check_answers(journal: Journal, outages: list[Outage], grace: float, v: Verdict) -> None:
    windows = [(o.what, o.down - 0.5, o.up + grace) for o in outages if o.what in SERVERS]
    table = journal.statuses()
    total = sum(sum(c.values()) for c in table.values())
    v.figure(f"answers: {total}")
    for op, counts in sorted(table.items()):
        v.figure(f"  {op:<13} " + ", ".join(f"{s}: {n}" for s, n in sorted(counts.items())))
    by_outage: Counter[str] = Counter()
    for answer in journal.answers:
        if answer.status >= 500 and answer.status != 503:
            v.fail(f"{answer.op} answered {answer.status} ({answer.code})")
        if answer.status != 503:
            continue
        during = [w for w, down, up in windows if answer.started <= up and answer.ended >= down]
        if during:
            by_outage[during[0]] += 1
        else:
            v.fail(f"{answer.op} answered 503 outside any outage")
    for outage in outages:
        late = sum(
            1
            for a in journal.answers
            if a.status == 503 and outage.up < a.ended <= outage.up + grace
        )
        v.figure(
            f"outage: {outage.what:<19} {outage.up - outage.down:4.1f} s;"
            f" 503 answers: {by_outage[outage.what]} ({late} after it was back)"
        )
    for what, steps in sorted(journal.gave_up.items()):
        v.figure(f"given up after retrying: {what}: {steps}")
    v.figure(f"answers the contract does not allow: {len(journal.wrong)}")
    v.failures.extend(f"wrong answer: {line}" for line in journal.wrong)


def _users(database_url: str) -> list[dict[str, Any]]:
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, row_factory=psycopg.rows.dict_row, connect_timeout=10) as db:
        return db.execute(
            "SELECT id, phone, invite_code, referrer_id, used_invite_code, referred_count"
            " FROM users"
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


def check_deliveries(journal: Journal, received: list[Received], ended: float, v: Verdict) -> None:
    arrivals: dict[str, list[float]] = defaultdict(list)
    for request in received:
        if 200 <= request.status < 300:
            arrivals[request.json()["id"]].append(request.at)
    unsigned = [r for r in received if not r.signed_by(WEBHOOK_SECRET.encode())]
    if unsigned:
        v.fail(f"{len(unsigned)} SMS webhook calls without a valid signature")
    last_login = defaultdict(float)
    for login in journal.logins:
        last_login[login.phone] = max(last_login[login.phone], login.answered)
    outcome: Counter[str] = Counter()
    latency = []
    for login in journal.logins:
        times = arrivals.get(login.challenge, [])
        if times:
            outcome["delivered once" if len(times) == 1 else "delivered more than once"] += 1
            latency.append(min(times) - login.asked)
        elif last_login[login.phone] > login.answered:
            outcome["not delivered, superseded"] += 1
        elif login.expires <= ended:
            outcome["not delivered, expired"] += 1
        else:
            outcome["lost (neither delivered nor expired)"] += 1
    logins = {login.challenge for login in journal.logins}
    orphans = sum(1 for challenge in arrivals if challenge not in logins)
    v.figure(f"codes queued (logins answered 200): {len(journal.logins)}")
    for what, count in sorted(outcome.items()):
        v.figure(f"  {what}: {count}")
        if what.startswith(("lost", "delivered more")):
            v.fail(f"codes {what}: {count}")
    v.figure(f"SMS for logins not answered 200 (queued, then 503): {orphans}")
    if latency:
        q = statistics.quantiles(latency, n=100) if len(latency) > 1 else latency * 99
        v.figure(
            f"login sent -> SMS at the sink: p50 {q[49]:.2f} s, p99 {q[98]:.2f} s,"
            f" max {max(latency):.2f} s"
        )
