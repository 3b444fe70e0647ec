"""referrals: phone-number login with one-time SMS codes, and a referral program.

Use cases (``RequestCode``, ``Verify``, ``GetProfile``, ``ApplyReferral``,
``Authenticate``, ``Logout``, ``DeliverCode``) depend only on the ports in
:mod:`referrals.application.ports`; build them wired to real or in-memory
adapters with :func:`referrals.container.build_container` or
:func:`referrals.container.in_memory_container`. Importing this package
imports no database driver.
"""

from referrals.application.apply_referral import ApplyReferral
from referrals.application.deliver_code import DeliverCode
from referrals.application.errors import (
    NotAuthenticated,
    RateLimited,
    ServiceUnavailable,
)
from referrals.application.policy import Policy
from referrals.application.profile import GetProfile, Profile
from referrals.application.request_code import CodeRequest, CodeRequested, RequestCode
from referrals.application.sessions import Authenticate, Logout
from referrals.application.verify import Verified, Verify, VerifyCode
from referrals.domain.errors import DomainError

__version__ = "0.1.0"

__all__ = [
    "ApplyReferral",
    "Authenticate",
    "CodeRequest",
    "CodeRequested",
    "DeliverCode",
    "DomainError",
    "GetProfile",
    "Logout",
    "NotAuthenticated",
    "Policy",
    "Profile",
    "RateLimited",
    "RequestCode",
    "ServiceUnavailable",
    "Verified",
    "Verify",
    "VerifyCode",
    "__version__",
]
