"""The contract suite of every port, for adapters of your own.

Each class holds the tests one port's adapters must pass; the project runs
them against its in-memory, SQL and Redis adapters. To check yours, subclass
the class in a test module and give the fixture it names (``pytest`` with
``pytest-asyncio``; install ``referrals[testing]``)::

    from referrals.testing.contracts import SessionStoreContract

    class TestMySessionStore(SessionStoreContract):
        @pytest.fixture
        def sessions(self) -> MySessionStore:
            return MySessionStore(...)

Every store starts empty in each test; times come from a ``clock`` fixture
(a :class:`~referrals.testing.FakeClock`, which you may override).
"""

from referrals.testing.contracts.activity import ActivityLogContract
from referrals.testing.contracts.applying import ApplyCodeContract
from referrals.testing.contracts.challenges import ChallengeStoreContract
from referrals.testing.contracts.circuit import CircuitBreakerContract
from referrals.testing.contracts.code_check import CodeCheckContract, CodeCheckStores
from referrals.testing.contracts.completion import CompletionStores, LoginCompletionContract
from referrals.testing.contracts.conversion import ConversionLogContract
from referrals.testing.contracts.cooldowns import CooldownsContract
from referrals.testing.contracts.deliveries import DeliveriesContract
from referrals.testing.contracts.delivery_ledger import DeliveryLedgerContract
from referrals.testing.contracts.delivery_log import DeliveryLogContract
from referrals.testing.contracts.login_history import LoginHistoryContract
from referrals.testing.contracts.rate_limiter import RateLimiterContract
from referrals.testing.contracts.referral_review import ReferralReviewContract
from referrals.testing.contracts.send_gate import GateParts, SendGateContract
from referrals.testing.contracts.sessions import SessionStoreContract
from referrals.testing.contracts.sms_gateway import SmsGatewayContract
from referrals.testing.contracts.spend import SpendLedgerContract
from referrals.testing.contracts.unit_of_work import UnitOfWorkContract
from referrals.testing.contracts.user_cooldowns import UserCooldownContract

__all__ = [
    "ActivityLogContract",
    "ApplyCodeContract",
    "ChallengeStoreContract",
    "CircuitBreakerContract",
    "CodeCheckContract",
    "CodeCheckStores",
    "CompletionStores",
    "ConversionLogContract",
    "CooldownsContract",
    "DeliveriesContract",
    "DeliveryLedgerContract",
    "DeliveryLogContract",
    "GateParts",
    "LoginCompletionContract",
    "LoginHistoryContract",
    "RateLimiterContract",
    "ReferralReviewContract",
    "SendGateContract",
    "SessionStoreContract",
    "SmsGatewayContract",
    "SpendLedgerContract",
    "UnitOfWorkContract",
    "UserCooldownContract",
]
