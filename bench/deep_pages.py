"""A user with a million referrals costs the same per page as one with ten.

    .venv/bin/python bench/deep_pages.py [--referrals 1000000]

Creates its own PostgreSQL database ``referrals_bench_<random>`` (local
server, trust auth), migrates it with ``referrals migrate``, bulk-inserts one
user with ``--referrals`` referrals and one with 10 (INSERT ... SELECT
generate_series, straight into ``referrals_users``), serves it with ``referrals serve``
(one process), signs both users in through the API and times
``GET /api/profile/?limit=100`` with wrk at concurrency 1: the small user's
page, and the big user's first, middle and last pages (cursors) of 10 and 100.
Then prints ``EXPLAIN ANALYZE`` of the page query, checks that it is an
index range scan on ``ix_referrals_users_referrer_id_referral_rank``, shows what the
usual ``COUNT(*)`` + ``OFFSET`` approach costs on the same rows, and drops the
database.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import benchlib
from benchlib import Measure, median, note

INDEX = "ix_referrals_users_referrer_id_referral_rank"
BIG, SMALL = 1, 2  # user ids
BIG_PHONE, SMALL_PHONE = "+79000000001", "+79000000002"
SMALL_REFERRALS = 10

# Invite codes are the id in Crockford base32, six characters: unique by construction.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def invite_code_sql(column: str) -> str:
    digit = "substr('{alphabet}', (({column} >> {shift}) & 31)::int + 1, 1)"
    shifts = range(25, -1, -5)
    return " || ".join(digit.format(alphabet=ALPHABET, column=column, shift=s) for s in shifts)


def invite_code(number: int) -> str:
    return "".join(ALPHABET[(number >> s) & 31] for s in range(25, -1, -5))


SEED_SQL = """
INSERT INTO referrals_users (id, phone, invite_code, referred_count, created_at)
VALUES (%(big)s, %(big_phone)s, %(big_code)s, %(n)s, now() - interval '400 days'),
       (%(small)s, %(small_phone)s, %(small_code)s, %(small_n)s, now() - interval '400 days');

INSERT INTO referrals_users (id, phone, invite_code, referrer_id, used_invite_code, referral_rank,
                   referred_count, created_at, referred_at)
SELECT g + 2, '+791' || lpad(g::text, 8, '0'), {code_big}, %(big)s, %(big_code)s, g,
       0, now() - interval '300 days', now() - (%(n)s - g) * interval '1 second'
FROM generate_series(1, %(n)s) AS g;

INSERT INTO referrals_users (id, phone, invite_code, referrer_id, used_invite_code, referral_rank,
                   referred_count, created_at, referred_at)
SELECT %(n)s + 2 + g, '+792' || lpad(g::text, 8, '0'), {code_small}, %(small)s,
       %(small_code)s, g, 0, now() - interval '300 days', now() - (10 - g) * interval '1 second'
FROM generate_series(1, %(small_n)s) AS g;

SELECT setval(pg_get_serial_sequence('referrals_users', 'id'),
              (SELECT max(id) FROM referrals_users));
"""


def page_sql(referrer: int, after: int, limit: int) -> str:
    """The statement the server runs for a profile page, with the values inlined."""
    from sqlalchemy.dialects import postgresql

    from referrals.adapters.sql.statements import PROFILE

    values = {"user_id": referrer, "after": after, "limit": limit}
    compiled = PROFILE.params(values).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


@dataclass
class Target:
    label: str
    token: str
    path: str
    rows: int
    first_phone: str
    """The first phone the page must list (checked before timing)."""
    same_size_first: Target | None = None
    """The first page of the same size, to compare a deep page with."""
    runs: list[Measure] = field(default_factory=list)


def seed(url: str, referrals: int) -> float:
    """Bulk-insert the two users and their referrals; returns the seconds it took."""
    started = time.monotonic()
    sql = SEED_SQL.format(
        code_big=invite_code_sql("(g + 2)"), code_small=invite_code_sql(f"({referrals} + 2 + g)")
    )
    params = {
        "big": BIG,
        "small": SMALL,
        "big_phone": BIG_PHONE,
        "small_phone": SMALL_PHONE,
        "big_code": invite_code(BIG),
        "small_code": invite_code(SMALL),
        "n": referrals,
        "small_n": SMALL_REFERRALS,
    }
    bulk_insert(url, sql, params, timeout=120)
    return time.monotonic() - started


def bulk_insert(url: str, sql: str, params: dict[str, object], timeout: int = 300) -> None:
    """Run the ``;``-separated ``sql`` in one transaction, then ``VACUUM ANALYZE``."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"SET statement_timeout = '{int(timeout)}s'")
        conn.execute("SET synchronous_commit = off")
        with conn.transaction():
            for statement in filter(str.strip, sql.split(";")):
                used = {k: v for k, v in params.items() if f"%({k})s" in statement}
                conn.execute(statement, used)
        conn.execute("VACUUM ANALYZE referrals_users")


def explain(url: str, referrer: int, after: int, limit: int = 101) -> str:
    import psycopg

    query = page_sql(referrer, after, limit)
    with psycopg.connect(url, connect_timeout=5) as conn:
        rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {query}").fetchall()
    return "\n".join(row[0] for row in rows)


def usual_orm_costs(url: str, referrer: int, referrals: int) -> list[tuple[str, str]]:
    """Execution times of what a typical ORM page does on the same rows."""
    import psycopg

    count = "SELECT count(*) FROM referrals_users WHERE referrer_id = {referrer}"
    offset = (
        "SELECT phone FROM referrals_users WHERE referrer_id = {referrer}"
        " ORDER BY referred_at, id OFFSET {offset} LIMIT 101"
    )
    queries = [
        ("COUNT(*) of the referrals", count.format(referrer=int(referrer))),
        (
            f"OFFSET {referrals - 100:,} page ordered by referred_at",
            offset.format(referrer=int(referrer), offset=int(referrals - 100)),
        ),
    ]
    results = []
    with psycopg.connect(url, connect_timeout=5) as conn:
        conn.execute("SET statement_timeout = '60s'")
        for label, query in queries:
            plan = [r[0] for r in conn.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {query}")]
            results.append((label, next(line for line in plan if "Execution Time" in line)))
    return results


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--postgres-url", default=benchlib.PG_ADMIN_URL, help="admin URL")
    parser.add_argument("--seconds", type=int, default=5, help="per measured run")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--connections", type=int, default=1)
    args = parser.parse_args()
    if not 200 <= args.referrals < 100_000_000:
        parser.error("--referrals must be from 200 to 99,999,999")
    return args


def check_pages(port: int, targets: list[Target], referrals: int) -> None:
    """Each target answers the page it should: its length and its first phone."""
    for target in targets:
        page = benchlib.expect(port, "GET", target.path, token=target.token)
        assert len(page["referred_users"]) == target.rows, (target.label, page)
        assert page["referred_users"][0] == target.first_phone, (target.label, page)
        assert page["referred_users_count"] in (referrals, SMALL_REFERRALS), page
    big_first = benchlib.expect(port, "GET", targets[-3].path, token=targets[-3].token)
    assert big_first["next_cursor"] == benchlib.encode_cursor(100), big_first  # our cursor
    last = benchlib.expect(port, "GET", targets[-1].path, token=targets[-1].token)
    assert last["next_cursor"] is None, last


def build_targets(small: str, big: str, n: int) -> list[Target]:
    def page(limit: int, after: int = 0) -> str:
        cursor = f"&cursor={benchlib.encode_cursor(after)}" if after else ""
        return f"/api/profile/?limit={limit}{cursor}"

    def big_phone(rank: int) -> str:
        return f"+791{rank:08d}"

    ten = SMALL_REFERRALS
    label = f"{ten} referrals, ?limit=100: the only page"
    small_page = Target(label, small, page(100), ten, "+79200000001")
    first_10 = Target(f"{n:,} referrals, ?limit=10: first page", big, page(10), 10, big_phone(1))
    label = f"{n:,} referrals, ?limit=100: first page"
    first_100 = Target(label, big, page(100), 100, big_phone(1))
    return [
        small_page,
        first_10,
        Target(
            f"{n:,} referrals, ?limit=10: last page (cursor after rank {n - 10:,})",
            big, page(10, n - 10), 10, big_phone(n - 9), first_10,
        ),
        first_100,
        Target(
            f"{n:,} referrals, ?limit=100: middle page (after rank {n // 2:,})",
            big, page(100, n // 2), 100, big_phone(n // 2 + 1), first_100,
        ),
        Target(
            f"{n:,} referrals, ?limit=100: last page (after rank {n - 100:,})",
            big, page(100, n - 100), 100, big_phone(n - 99), first_100,
        ),
    ]  # fmt: skip


def measure(port: int, pid: int, targets: list[Target], args: argparse.Namespace) -> None:
    for repeat in range(args.repeats):
        shift = repeat % len(targets)
        for target in targets[shift:] + targets[:shift]:
            run = [target.token]
            load = {"connections": args.connections}
            benchlib.run_wrk(port, target.path, "profile", run, seconds=args.warmup, **load)
            before = benchlib.group_cpu_seconds(pid)
            result = benchlib.run_wrk(
                port, target.path, "profile", run, seconds=args.seconds, **load
            )
            result.cpu_seconds = benchlib.group_cpu_seconds(pid) - before
            assert result.errors == 0, result.raw
            target.runs.append(result)
            note(
                f"#{repeat + 1} {target.label}: p50 {result.p50_ms:.2f} ms"
                f" p99 {result.p99_ms:.2f} ms, {result.rps:,.0f}/s"
            )


def ratio(target: Target, reference: Target | None) -> str:
    if reference is None:
        return ""
    if reference is target:
        return "1 (reference)"
    ratios = [a.p50_ms / b.p50_ms for a, b in zip(target.runs, reference.runs, strict=True)]
    return f"**{median(ratios):.2f}x** ({min(ratios):.2f} to {max(ratios):.2f})"


def table(targets: list[Target]) -> str:
    lines = [
        "| page | rows | p50 ms | p99 ms | req/s | server CPU ms/req"
        " | p50 / 10-referral page | p50 / first page of that size |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for target in targets:
        lines.append(
            f"| {target.label} | {target.rows}"
            f" | {median([r.p50_ms for r in target.runs]):.2f}"
            f" | {median([r.p99_ms for r in target.runs]):.2f}"
            f" | {median([r.rps for r in target.runs]):,.0f}"
            f" | {median([r.cpu_ms_per_request for r in target.runs]):.2f}"
            f" | {ratio(target, targets[0])} | {ratio(target, target.same_size_first)} |"
        )
    return "\n".join(lines)


def main() -> int:
    args = parse_args()
    benchlib.exit_on_sigterm()
    benchlib.find_wrk()
    if not benchlib.postgres_available(args.postgres_url):
        raise SystemExit(f"PostgreSQL is not reachable at {args.postgres_url}")
    started = datetime.now(UTC)
    n = args.referrals
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(benchlib.temporary_database(args.postgres_url))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-deep-")))
        ours_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        env = benchlib.clean_environ() | {"REFERRALS_DATABASE_URL": ours_url}
        benchlib.run_checked([str(benchlib.OURS_BIN), "migrate"], env, workdir, timeout=120)
        note(f"seeding {n:,} + {SMALL_REFERRALS} referrals into {url.rsplit('/', 1)[1]}")
        seconds = seed(url, n)
        note(f"seeded in {seconds:.1f} s (with VACUUM ANALYZE)")
        server = benchlib.start_ours("deep", workdir, ours_url)
        stack.callback(server.stop)
        big, _ = benchlib.sign_in(server.port, BIG_PHONE)
        small, _ = benchlib.sign_in(server.port, SMALL_PHONE)
        targets = build_targets(small, big, n)
        check_pages(server.port, targets, n)
        measure(server.port, server.process.pid, targets, args)
        plan_big = explain(url, BIG, n - 100)
        plan_small = explain(url, SMALL, 0)
        assert INDEX in plan_big, plan_big
        assert INDEX in plan_small, plan_small
        orm = usual_orm_costs(url, BIG, n)
    print(
        f"{started:%Y-%m-%d %H:%M} UTC, {benchlib.machine()}; PostgreSQL, `referrals serve`"
        f" (1 process); wrk -t1 -c{args.connections}, {args.seconds} s after {args.warmup} s"
        f" warm-up, median of {args.repeats}; seeding {n + SMALL_REFERRALS + 2:,} rows took"
        f" {seconds:.1f} s\n"
    )
    print(table(targets))
    print(f"\nEXPLAIN ANALYZE of the last page of the {n:,}-referral user:\n")
    print("```\n" + page_sql(BIG, n - 100, 101) + "\n\n" + plan_big + "\n```")
    print(f"\nand of the {SMALL_REFERRALS}-referral user's page:\n")
    print("```\n" + plan_small + "\n```")
    print("\nThe usual ORM way on the same rows (COUNT(*) and OFFSET), for contrast:\n")
    for label, line in orm:
        print(f"- {label}: {line.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
