"""What other projects' tests need from referrals (install ``referrals[testing]``).

- :class:`InMemoryService`: a whole service in memory, on a :class:`FakeClock`,
  delivering each code before ``request_code`` returns; ``last_code(phone)``.
- :mod:`referrals.testing.fixtures`: pytest fixtures (``referrals_service``…).
- :mod:`referrals.testing.contracts`: the contract suite of every port, to
  run against adapters of your own.
"""

from referrals.testing.clock import FakeClock
from referrals.testing.service import DeliveredCode, InlineCodeSender, InMemoryService

__all__ = ["DeliveredCode", "FakeClock", "InMemoryService", "InlineCodeSender"]
