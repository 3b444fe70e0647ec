"""The soak drill: mixed traffic against PostgreSQL + Redis with two API
processes and a worker, codes routed through two SMS providers, while
PostgreSQL and both Redis servers restart, the worker is killed and the first
SMS provider goes away and comes back; then the invariants (see
:mod:`bench.soak.checks`).

    python3 dev.py soak                  # about 5 minutes
    .venv/bin/python -m bench.soak --seconds 60 --users 8

Everything it starts is its own (throwaway servers on free 127.0.0.1
ports) and stopped at the end. It prints the figures and exits 1 if an
invariant failed; the processes' logs stay in the folder it names.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import redis
from bench.soak.chaos import Outage, run_chaos
from bench.soak.checks import Verdict, check_answers, check_deliveries
from bench.soak.journal import Journal
from bench.soak.stack import PREFIX, Stack, running_stack
from bench.soak.traffic import Crowd
from bench.soak.users import check_users

DRAIN = 60.0
"""Seconds the queue may take to empty once the traffic stopped."""


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=180, help="traffic (default %(default)s)")
    parser.add_argument(
        "--users", type=int, default=12, help="people at once (default %(default)s)"
    )
    parser.add_argument("--down", type=float, default=6, help="seconds each outage lasts")
    parser.add_argument("--grace", type=float, default=5, help="seconds a 503 may follow an outage")
    parser.add_argument("--seed", type=int, default=9)
    return parser.parse_args()


def _drain(stack: Stack) -> tuple[int, int]:
    """Wait (bounded) until every queued task was acknowledged; (entries, pending) left."""
    client = redis.Redis.from_url(stack.broker.url)
    deadline = time.monotonic() + DRAIN
    try:
        while True:
            length = int(client.xlen(f"{PREFIX}tasks"))
            pending = (
                sum(int(g["pending"]) for g in client.xinfo_groups(f"{PREFIX}tasks"))
                if length
                else 0
            )
            if (length, pending) == (0, 0) or time.monotonic() > deadline:
                return length, pending
            time.sleep(0.2)
    finally:
        client.close()


def _logs(stack: Stack, verdict: Verdict) -> None:
    for what in ("api", "worker"):
        output = stack.output(what)
        verdict.figure(
            f"{what} log: {output.count('Traceback')} tracebacks,"
            f" {output.count('unexpected error')} unexpected errors"
        )
        if "unexpected error" in output:
            verdict.fail(f"the {what} logged an unexpected error")
    worker = stack.output("worker")
    for line in ("dropped a stale code", "dropped a duplicate code", "another worker is sending"):
        verdict.figure(f"worker: {line}: {worker.count(line)}")


def drill(args: argparse.Namespace, logs: Path) -> Verdict:
    outages, verdict = list[Outage](), Verdict()
    with running_stack(logs) as stack:
        print(f"[soak] API {stack.api_url} (2 processes), worker, logs in {logs}", flush=True)
        journal = Journal()  # its clock starts with the traffic, as the outages' do
        stopped = threading.Event()
        chaos = threading.Thread(
            target=run_chaos, args=(stack, args.seconds, args.down, stopped, outages)
        )
        chaos.start()
        began = time.monotonic()
        try:
            crowd = Crowd(stack.api_url, stack.sink, stack.smsru, journal, args.seed)
            asyncio.run(asyncio.wait_for(crowd.run(args.users, args.seconds), args.seconds + 180))
        except TimeoutError:
            verdict.fail(f"the traffic was still running {args.seconds + 180:g} s after it began")
        finally:
            stopped.set()
            chaos.join()
        traffic = time.monotonic() - began
        left = _drain(stack)
        verdict.figure(f"traffic: {traffic:.0f} s, {args.users} people at once")
        verdict.figure(f"queue after the drain: {left[0]} entries, {left[1]} unacknowledged")
        if left != (0, 0):
            verdict.fail(f"the queue did not drain in {DRAIN:g} s: {left}")
        check_answers(journal, outages, args.grace, verdict)
        check_users(journal, stack.postgres.url, verdict)
        with stack.sink.lock:
            received = list(stack.sink.received)
        back = next((o.up for o in outages if o.what == "sms webhook"), None)
        texts = stack.smsru.texts()
        check_deliveries(journal, received, texts, time.monotonic(), verdict, back)
        _logs(stack, verdict)
    return verdict


def main() -> int:
    args = _arguments()
    logs = Path(tempfile.mkdtemp(prefix="referrals-soak-"))
    try:
        verdict = drill(args, logs)
    except pytest.skip.Exception as missing:  # tests/servers.py: a server binary is missing
        print(f"[soak] cannot run: {missing.msg}", file=sys.stderr)
        return 2
    print("\n".join(["", "[soak] figures:", *(f"  {line}" for line in verdict.figures)]))
    if verdict.failures:
        print(f"\n[soak] FAILED ({len(verdict.failures)}):")
        print("\n".join(f"  {line}" for line in verdict.failures[:50]))
        print(f"[soak] logs: {logs}")
        return 1
    print("\n[soak] every invariant held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
