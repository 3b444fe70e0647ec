"""referrals: phone-number login with one-time SMS codes, and a referral program.

The public API is what this module exports (see ``__all__`` and docs/library.md,
"As a library"): the use cases with their inputs and results, the errors,
the ports an adapter implements, the events and hooks, the settings, and
:func:`open_service`, which builds a working :class:`Service` from settings
or from adapters of your choice. Adapters live in ``referrals.adapters.*``
(``memory`` needs nothing; ``sql``, ``redis``, ``taskiq`` need their extras),
the Litestar plugin in ``referrals.entrypoints.http``, test helpers in
``referrals.testing``, the languages of every text people read in
``referrals.i18n``. Anything else may change without notice.

Importing this package imports no database driver, web framework or queue.
"""

from importlib.metadata import version

from referrals.application.apply_referral import ApplyReferral
from referrals.application.delete_account import ConfirmDeletion, RequestDeletion
from referrals.application.deliver_code import DeliverCode, Delivery
from referrals.application.errors import (
    ConcurrencyConflict,
    DeliveryFailed,
    NotAuthenticated,
    RateLimited,
    ServiceUnavailable,
    TooManyAttempts,
)
from referrals.application.events import (
    AccountDeleted,
    CodeSent,
    Event,
    Hooks,
    LoginSucceeded,
    ReferralApplied,
    ReferralDecided,
    UserCreated,
)
from referrals.application.export import Export, ExportData
from referrals.application.outbox import OutboxEvent
from referrals.application.own_sessions import (
    ListSessions,
    OwnSession,
    RevokeOtherSessions,
    RevokeSession,
)
from referrals.application.policy import Policy
from referrals.application.ports import (
    ActivityLog,
    ChallengeStore,
    CircuitBreaker,
    Clock,
    CodeCheck,
    CodeSender,
    ConversionLog,
    Cooldowns,
    DeliveryLedger,
    DeliveryLog,
    EventSink,
    LoginCompletion,
    Outbox,
    RateLimiter,
    SendGate,
    SessionStore,
    SmsGateway,
    SpendLedger,
    UnitOfWork,
    UnitOfWorkFactory,
    UserRepository,
)
from referrals.application.profile import GetProfile, GetUser, Profile
from referrals.application.request_code import CodeRequest, CodeRequested, RequestCode
from referrals.application.sessions import Authenticate, Logout, Session
from referrals.application.sms_text import SmsText
from referrals.application.verify import Verified, Verify, VerifyCode
from referrals.domain.challenge import Attempt, AttemptResult, Challenge
from referrals.domain.codes import InviteCode
from referrals.domain.completion import Completed, Completion
from referrals.domain.delivery import CircuitState, DeliveryRecord, DeliveryStep
from referrals.domain.device import Device
from referrals.domain.errors import (
    ChallengeExpired,
    CodeInvalid,
    DomainError,
    InvalidConfirmationCode,
    InvalidInput,
    InvalidInviteCode,
    InvalidPhone,
    OwnReferralCode,
    ReferralAlreadyApplied,
    ReferralCodeNotFound,
    ReferralCooldown,
    ReferralCycle,
    SessionNotFound,
    SuspectedSelfReferral,
)
from referrals.domain.integrity import Action, Screening
from referrals.domain.limits import (
    Charge,
    GroupFigures,
    Limit,
    Pumping,
    Quota,
    Refusal,
    Rule,
    SendDecision,
)
from referrals.domain.logins import LoginRecord
from referrals.domain.messages import Claim, CodeDelivery, SmsMessage
from referrals.domain.phone import Phone, parse_phone
from referrals.domain.sessions import SessionInfo
from referrals.domain.user import AppliedCode, Referral, Totals, User
from referrals.service import Adapters, Service, open_service
from referrals.settings import Settings, SettingsError, load_settings

__version__ = version("referrals")
"""This package's version, as its metadata says (``pyproject.toml`` is its one home)."""

__all__ = [
    "AccountDeleted",
    "Action",
    "ActivityLog",
    "Adapters",
    "AppliedCode",
    "ApplyReferral",
    "Attempt",
    "AttemptResult",
    "Authenticate",
    "Challenge",
    "ChallengeExpired",
    "ChallengeStore",
    "Charge",
    "CircuitBreaker",
    "CircuitState",
    "Claim",
    "Clock",
    "CodeCheck",
    "CodeDelivery",
    "CodeInvalid",
    "CodeRequest",
    "CodeRequested",
    "CodeSender",
    "CodeSent",
    "Completed",
    "Completion",
    "ConcurrencyConflict",
    "ConfirmDeletion",
    "ConversionLog",
    "Cooldowns",
    "DeliverCode",
    "Delivery",
    "DeliveryFailed",
    "DeliveryLedger",
    "DeliveryLog",
    "DeliveryRecord",
    "DeliveryStep",
    "Device",
    "DomainError",
    "Event",
    "EventSink",
    "Export",
    "ExportData",
    "GetProfile",
    "GetUser",
    "GroupFigures",
    "Hooks",
    "InvalidConfirmationCode",
    "InvalidInput",
    "InvalidInviteCode",
    "InvalidPhone",
    "InviteCode",
    "Limit",
    "ListSessions",
    "LoginCompletion",
    "LoginRecord",
    "LoginSucceeded",
    "Logout",
    "NotAuthenticated",
    "Outbox",
    "OutboxEvent",
    "OwnReferralCode",
    "OwnSession",
    "Phone",
    "Policy",
    "Profile",
    "Pumping",
    "Quota",
    "RateLimited",
    "RateLimiter",
    "Referral",
    "ReferralAlreadyApplied",
    "ReferralApplied",
    "ReferralCodeNotFound",
    "ReferralCooldown",
    "ReferralCycle",
    "ReferralDecided",
    "Refusal",
    "RequestCode",
    "RequestDeletion",
    "RevokeOtherSessions",
    "RevokeSession",
    "Rule",
    "Screening",
    "SendDecision",
    "SendGate",
    "Service",
    "ServiceUnavailable",
    "Session",
    "SessionInfo",
    "SessionNotFound",
    "SessionStore",
    "Settings",
    "SettingsError",
    "SmsGateway",
    "SmsMessage",
    "SmsText",
    "SpendLedger",
    "SuspectedSelfReferral",
    "TooManyAttempts",
    "Totals",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "User",
    "UserCreated",
    "UserRepository",
    "Verified",
    "Verify",
    "VerifyCode",
    "__version__",
    "load_settings",
    "open_service",
    "parse_phone",
]
