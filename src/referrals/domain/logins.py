"""The login history: one record per successful login, kept
``REFERRALS_HISTORY_KEEP`` (``docs/account.md``). It holds no phone: the
user's id, when, and the device as a session keeps it (a masked network)."""

from __future__ import annotations

from dataclasses import dataclass

from referrals.domain.device import Device


@dataclass(frozen=True, slots=True)
class LoginRecord:
    """One successful login of a user."""

    user_id: int
    at: float
    """When (seconds since the epoch)."""
    network: str = ""
    """The caller's masked network (``203.0.113.0/24``), or empty if unknown."""
    user_agent: str = ""
    device: str = ""
    """The device id's key (:func:`~referrals.domain.integrity.device_key`),
    or empty if the caller sent none; compared for ``same_device``."""

    @classmethod
    def of(cls, user_id: int, at: float, device: Device, device_key: str = "") -> LoginRecord:
        return cls(user_id, at, device.address, device.user_agent, device_key)
