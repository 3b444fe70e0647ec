"""SMS gateways: where a worker hands a code over to be sent.

Each is imported when first named, so the console gateway does not load
httpx (the webhook's client) into a process that never uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from referrals.adapters.sms.console import ConsoleSmsGateway
    from referrals.adapters.sms.webhook import WebhookSmsGateway

__all__ = ["ConsoleSmsGateway", "WebhookSmsGateway"]


def __getattr__(name: str) -> Any:
    if name == "ConsoleSmsGateway":
        from referrals.adapters.sms.console import ConsoleSmsGateway

        return ConsoleSmsGateway
    if name == "WebhookSmsGateway":
        from referrals.adapters.sms.webhook import WebhookSmsGateway

        return WebhookSmsGateway
    raise AttributeError(name)
