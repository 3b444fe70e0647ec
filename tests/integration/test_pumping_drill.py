"""The short form of the pumping drill (bench/pumping_drill.py), with its own
thresholds: enforce keeps pumped SMS and organic refusals down, and the same
drill with the defence off fails them."""

from __future__ import annotations

import logging

import pytest

from bench import pumping_drill

PEOPLE, ATTACK, VOLUME = 200, 2_000, 10


@pytest.fixture(autouse=True)
def quiet(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)  # thousands of "throttled" warnings


async def test_enforce_sends_few_pumped_codes_and_refuses_no_organic_login() -> None:
    figures = await pumping_drill.run("enforce", PEOPLE, ATTACK, VOLUME)

    assert figures.pumped_ratio <= 0.05
    assert figures.organic_refused_share <= 0.01
    assert figures.first_throttle is not None
    assert figures.spend < pumping_drill.CAP.count


async def test_the_drill_fails_with_the_defence_off() -> None:
    figures = await pumping_drill.run("off", PEOPLE, ATTACK, VOLUME)

    assert figures.pumped_ratio > 0.05  # the fixed limits alone let pumping through
    assert figures.first_throttle is None


async def test_shadow_refuses_nothing_for_pumping() -> None:
    figures = await pumping_drill.run("shadow", PEOPLE, ATTACK, VOLUME)

    assert not any(limit.startswith("pumping") for limit in figures.refused_by)
