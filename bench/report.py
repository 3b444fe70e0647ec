"""The tables ``bench.py`` prints: per server and scenario, then the targets of issue 8."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from benchlib import median
from scenarios import SCENARIOS, Window

RSS_TARGET_MB = 120


@dataclass
class Row:
    server: str
    scenario: str
    windows: list[Window]

    def median(self, value: Callable[[Window], float]) -> float:
        return median([value(w) for w in self.windows])

    @property
    def rps(self) -> float:
        return self.median(lambda w: w.measure.rps)

    @property
    def p99(self) -> float:
        return self.median(lambda w: w.measure.p99_ms)

    @property
    def non_2xx(self) -> int:
        return sum(w.measure.raw["status_errors"] for w in self.windows)

    @property
    def socket_errors(self) -> int:
        return sum(w.measure.errors - w.measure.raw["status_errors"] for w in self.windows)

    @property
    def exhausted(self) -> int:
        return sum(w.measure.raw.get("exhausted", 0) for w in self.windows)

    @property
    def ratio(self) -> float | None:
        """Median over repeats of req/s over the ceiling's req/s in the same repeat."""
        pairs = [w.measure.rps / w.ceiling.rps for w in self.windows if w.ceiling]
        return median(pairs) if pairs else None

    @property
    def pg_sessions(self) -> list[int]:
        return [w.pg_sessions for w in self.windows if w.pg_sessions is not None]


def rows(windows: Sequence[Window]) -> list[Row]:
    grouped: dict[tuple[str, str], list[Window]] = {}
    for window in windows:
        if not window.profiled:
            grouped.setdefault((window.server, window.scenario), []).append(window)
    return [Row(server, scenario, ws) for (server, scenario), ws in grouped.items()]


def table(server: str, description: str, server_rows: Sequence[Row]) -> str:
    lines = [
        f"{server}: {description}",
        "",
        "| scenario | req/s | p50 ms | p99 ms | non-2xx | CPU ms/req | of ceiling"
        " | PG connections opened |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in server_rows:
        non_2xx = f"{row.non_2xx:,}"
        if row.exhausted:
            non_2xx += f" (pool ran out: {row.exhausted:,})"
        if row.socket_errors:
            non_2xx += f" + {row.socket_errors:,} socket errors"
        ratio = "" if row.ratio is None else f"{row.ratio:.1%}"
        opened = ", ".join(str(n) for n in row.pg_sessions)
        lines.append(
            f"| {row.scenario}: {SCENARIOS[row.scenario]} | {row.rps:,.0f}"
            f" | {row.median(lambda w: w.measure.p50_ms):.1f} | {row.p99:.1f} | {non_2xx}"
            f" | {row.median(lambda w: w.measure.cpu_ms_per_request):.2f} | {ratio}"
            f" | {opened} |"
        )
    return "\n".join(lines)


@dataclass
class Target:
    name: str
    measured: str
    passed: bool | None
    """None: not measured in this run."""


def _clean(row: Row) -> bool:
    return row.non_2xx == 0 and row.socket_errors == 0


def _ratio_target(name: str, row: Row | None, minimum: float) -> Target:
    if row is None or row.ratio is None:
        return Target(name, "not measured", None)
    passed = row.ratio >= minimum and _clean(row)
    extra = "" if _clean(row) else f", {row.non_2xx + row.socket_errors:,} errors"
    return Target(name, f"{row.ratio:.1%}{extra}", passed)


def _million_target(name: str, base: Row | None, big: Row | None) -> Target:
    if base is None or big is None:
        return Target(name, "not measured", None)
    ratios = [
        a.measure.rps / b.measure.rps
        for a, b in zip(base.windows, big.windows, strict=False)
        if b.measure.rps
    ]
    value = median(ratios)
    return Target(name, f"{value:.2f}x the time", value <= 1.2 and _clean(big))


def targets(all_rows: Sequence[Row], rss: dict[str, dict[int, float]]) -> list[Target]:
    def row(server: str, scenario: str) -> Row | None:
        found = [r for r in all_rows if (r.server, r.scenario) == (server, scenario)]
        return found[0] if found else None

    profile = row("pg", "profile")
    result = [_ratio_target("pg profile GET >= 30 % of the ceiling", profile, 0.30)]
    if profile is None:
        result.append(Target("pg profile GET p99 <= 15 ms", "not measured", None))
    else:
        result.append(
            Target("pg profile GET p99 <= 15 ms", f"{profile.p99:.1f} ms", profile.p99 <= 15)
        )
    result += [
        _ratio_target("pg login >= 25 %", row("pg", "login"), 0.25),
        _ratio_target("pg verify >= 15 %", row("pg", "verify"), 0.15),
        _ratio_target("pg apply >= 15 %", row("pg", "apply"), 0.15),
        _million_target(
            "pg 1M first page within 1.2x of the 20-referral one (1 / req/s)",
            profile, row("pg", "profile-1m"),
        ),
        _million_target(
            "pg 1M deep page within 1.2x of the 20-referral one (1 / req/s)",
            profile, row("pg", "profile-1m-deep"),
        ),
    ]  # fmt: skip
    opened = [n for r in all_rows if r.server == "pg" for n in r.pg_sessions]
    result.append(
        Target(
            "pg: no PostgreSQL connection opened in a measured run",
            f"{sum(opened):,} in {len(opened)} runs" if opened else "not measured",
            (max(opened) == 0) if opened else None,
        )
    )
    for server in ("pg", "embedded"):
        sizes = rss.get(server)
        name = f"{server}: API process <= {RSS_TARGET_MB} MB resident after the run"
        if not sizes:
            result.append(Target(name, "not measured", None))
            continue
        biggest = max(sizes.values())
        result.append(Target(name, f"{biggest:.1f} MB", biggest <= RSS_TARGET_MB))
    result.append(_ratio_target("embedded profile GET >= 25 %", row("embedded", "profile"), 0.25))
    return result


def targets_table(items: Sequence[Target]) -> str:
    lines = ["| target (issue 8) | measured | result |", "|---|---:|---|"]
    for t in items:
        verdict = "-" if t.passed is None else ("pass" if t.passed else "**FAIL**")
        lines.append(f"| {t.name} | {t.measured} | {verdict} |")
    return "\n".join(lines)
