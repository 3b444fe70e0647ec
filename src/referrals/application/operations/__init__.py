"""Use cases for the people who run the service (the ``referrals`` operator
commands call them; a host may too): look users up, list who they referred,
revoke their sessions, lift their limits, see the figures and what became
of a phone's login codes.

Phones are read like the API reads them (E.164 after parsing in the default
region) but any region is accepted: a user of a region no longer served can
still be looked up.
"""

from referrals.application.operations.delete_user import DeleteUser
from referrals.application.operations.deliveries import PhoneDeliveries, ShowDeliveries
from referrals.application.operations.lookup import UserNotFound, find_user
from referrals.application.operations.referred import ListReferred, ReferredPage
from referrals.application.operations.reset_limits import LimitsReset, ResetLimits
from referrals.application.operations.review import ReviewReferrals
from referrals.application.operations.revoke_sessions import RevokeSessions, SessionsRevoked
from referrals.application.operations.show_user import ShowUser, UserReport
from referrals.application.operations.stats import ChannelConversion, GetStats, Stats

__all__ = [
    "ChannelConversion",
    "DeleteUser",
    "GetStats",
    "LimitsReset",
    "ListReferred",
    "PhoneDeliveries",
    "ReferredPage",
    "ResetLimits",
    "ReviewReferrals",
    "RevokeSessions",
    "SessionsRevoked",
    "ShowDeliveries",
    "ShowUser",
    "Stats",
    "UserNotFound",
    "UserReport",
    "find_user",
]
