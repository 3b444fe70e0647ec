"""pytest fixtures for projects that use referrals; enable them in a conftest.py::

    pytest_plugins = ["referrals.testing.fixtures"]

``referrals_service`` is a fresh :class:`~referrals.testing.InMemoryService`
per test (its clock is ``referrals_clock``); override ``referrals_policy``
to change the rules for a module or a test.
"""

from __future__ import annotations

import pytest

from referrals.application.policy import Policy
from referrals.testing.clock import FakeClock
from referrals.testing.service import InMemoryService


@pytest.fixture
def referrals_clock() -> FakeClock:
    """The clock of ``referrals_service``; move it with ``advance(seconds)``."""
    return FakeClock()


@pytest.fixture
def referrals_policy() -> Policy:
    """The rules of ``referrals_service``: the product's defaults (docs/rules.md)."""
    return Policy()


@pytest.fixture
def referrals_service(referrals_clock: FakeClock, referrals_policy: Policy) -> InMemoryService:
    """A whole referrals service in memory, with codes delivered at once."""
    return InMemoryService(policy=referrals_policy, clock=referrals_clock)
