"""Webhooks over HTTP, signed as the Standard Webhooks spec says (docs/events.md)."""

from referrals.adapters.webhooks.poster import HttpWebhookPoster, signed_headers

__all__ = ["HttpWebhookPoster", "signed_headers"]
