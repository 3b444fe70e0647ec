"""SMS gateways: where a worker hands a code over to be sent."""

from referrals.adapters.sms.console import ConsoleSmsGateway
from referrals.adapters.sms.webhook import WebhookSmsGateway

__all__ = ["ConsoleSmsGateway", "WebhookSmsGateway"]
