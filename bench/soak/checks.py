"""The drill's invariants, checked once the traffic stopped and the queue drained.

* no 500, and no answer missing; a 503 only while PostgreSQL or a Redis
  server was away (plus ``grace`` seconds after it was back);
* every answer the contract allows (the traffic wrote down the others);
* each verified phone is one user; each applied code recorded once, on the
  user who was answered 200 for it, and counted once on its owner; no cycle
  (in :mod:`bench.soak.users`);
* every code that was queued was delivered, at most once on each of the
  route's channels (the webhook, SMS.ru), or was not delivered and expired
  or was superseded by a later login of that phone.

Each check adds figures to print and, when it fails, a failure.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

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


def _second_arrivals(
    journal: Journal, texts: list[tuple[float, str, str]]
) -> dict[str, list[float]]:
    """SMS.ru's texts by login: those to its phone from its request to the phone's next login."""
    by_phone: dict[str, list[float]] = defaultdict(list)
    for at, phone, _ in texts:
        by_phone[phone].append(at)
    asked: dict[str, list[float]] = defaultdict(list)
    for login in journal.logins:
        asked[login.phone].append(login.asked)
    arrivals: dict[str, list[float]] = defaultdict(list)
    for login in journal.logins:
        later = [t for t in asked[login.phone] if t > login.asked]
        until = min(later, default=float("inf"))
        arrivals[login.challenge] = [
            at for at in by_phone[login.phone] if login.asked <= at < until
        ]
    return arrivals


def _delivered(webhook: list[float], smsru: list[float]) -> str:
    if len(webhook) > 1 or len(smsru) > 1:
        return "delivered more than once on one channel"
    if webhook and smsru:
        return "delivered once on each channel (the webhook took it late)"
    return "delivered once, by SMS.ru (the webhook failed)" if smsru else "delivered once"


def check_deliveries(
    journal: Journal,
    received: list[Received],
    second: list[tuple[float, str, str]],
    ended: float,
    v: Verdict,
    webhook_back: float | None = None,
) -> None:
    arrivals: dict[str, list[float]] = defaultdict(list)
    for request in received:
        if 200 <= request.status < 300:
            arrivals[request.json()["id"]].append(request.at)
    unsigned = [r for r in received if not r.signed_by(WEBHOOK_SECRET.encode())]
    if unsigned:
        v.fail(f"{len(unsigned)} SMS webhook calls without a valid signature")
    by_smsru = _second_arrivals(journal, second)
    last_login = defaultdict(float)
    for login in journal.logins:
        last_login[login.phone] = max(last_login[login.phone], login.answered)
    outcome: Counter[str] = Counter()
    latency = []
    for login in journal.logins:
        webhook, smsru = arrivals.get(login.challenge, []), by_smsru.get(login.challenge, [])
        if webhook or smsru:
            outcome[_delivered(webhook, smsru)] += 1
            latency.append(min(webhook + smsru) - login.asked)
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
    if webhook_back is not None:
        after = sum(1 for times in arrivals.values() for at in times if at > webhook_back)
        v.figure(f"codes the webhook took after its outage (its circuit closed again): {after}")
    _latency(latency, v)


def _latency(latency: list[float], v: Verdict) -> None:
    if not latency:
        return
    q = (
        statistics.quantiles(latency, n=100, method="inclusive")
        if len(latency) > 1
        else latency * 99
    )
    v.figure(
        f"login sent -> SMS at a provider: p50 {q[49]:.2f} s, p99 {q[98]:.2f} s,"
        f" max {max(latency):.2f} s"
    )
