"""The short form of the pumping drill (bench/pumping_drill.py) against a real
server, with its own thresholds: enforce keeps pumped SMS and organic refusals
down and holds the farmed referrals, not the organic ones; shadow refuses
nothing for pumping, and the same drill with the defence off fails the goals.

A twentieth of the traffic (100 people, 1,000 pumped requests, minimum
volume 5) in an hour run in 20 s. The thresholds are the short form's own: twice
the full drill's room (a loaded machine that runs the hour late lets a range
send its minimum volume in one more window), and on counts, not on times:
``organic_delayed`` (a code later than 60 s of the hour) depends on the
machine's load, so it is left to the full drill's report.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.pumping.drill import HOUR, hour_of_traffic, run
from bench.pumping.figures import HELD, Figures
from bench.pumping.stacks import CAP, Servers

pytestmark = pytest.mark.slow

PEOPLE, ATTACK, VOLUME = 100, 1_000, 5
SCALE = HOUR / 20
LOGINS = hour_of_traffic(PEOPLE, ATTACK)


async def short_drill(
    mode: str, logs: Path, servers: Servers | None = None, *, referrals: bool = True
) -> Figures:
    figures = await run(
        mode,
        LOGINS,
        scale=SCALE,
        min_volume=VOLUME,
        logs=logs,
        servers=servers,
        referrals=referrals,
    )
    assert not figures.server_errors, figures.notes()  # no 5xx, nothing unanswered
    assert figures.organic == PEOPLE and figures.pumped == ATTACK
    return figures


def assert_defended(figures: Figures) -> None:
    assert figures.pumped_ratio <= 0.10, figures.notes()
    assert figures.organic_refused <= PEOPLE * 0.02, figures.notes()
    assert figures.first_throttle is not None
    assert figures.spend < CAP
    assert figures.farmed_held >= 0.95, figures.notes()
    assert figures.organic_held <= 0.02, figures.notes()
    assert figures.friends.total() >= PEOPLE // 4  # organic appliers were there to hold


async def test_enforce_on_the_embedded_server_sends_few_pumped_codes(tmp_path: Path) -> None:
    assert_defended(await short_drill("enforce", tmp_path))


@pytest.mark.postgres
@pytest.mark.redis
async def test_enforce_on_postgres_redis_with_two_processes_and_a_worker(
    tmp_path: Path, empty_postgres_url: str, redis_server_url: str
) -> None:
    figures = await short_drill("enforce", tmp_path, Servers(empty_postgres_url, redis_server_url))

    assert_defended(figures)
    assert figures.spend_ledger == figures.spend  # the server's ledger agrees with the bill
    assert figures.reviewed["farmed"] == figures.farmed[HELD]  # the operator's review lists them


async def test_the_drill_fails_with_the_defence_off(tmp_path: Path) -> None:
    figures = await short_drill("off", tmp_path, referrals=False)

    assert figures.pumped_ratio > 0.10  # the fixed limits alone let pumping through
    assert figures.first_throttle is None


async def test_shadow_refuses_nothing_for_pumping_but_counts_it(tmp_path: Path) -> None:
    figures = await short_drill("shadow", tmp_path, referrals=False)

    assert not any(why.startswith("pumping") for why in figures.refused_by)
    assert figures.pumped_ratio > 0.10
    assert figures.first_throttle is not None  # the metric counted what it would refuse
