"""Providers' delivery receipts: ``receipts/{channel}/`` under the mount path.

The route stays thin: the channel's reader (an adapter) checks the
signature and reads the body; see docs/sending-codes.md.
"""

# No `from __future__ import annotations`: Litestar reads these handlers' annotations
# at start-up, and some refer to values local to the builder function.

from typing import Annotated, Any

from litestar import MediaType, Request, Response, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import PathParameter, QueryParameter

from referrals.application.receipts import Callback
from referrals.entrypoints.http import links
from referrals.entrypoints.http.handlers import error_responses
from referrals.entrypoints.http.runtime import Runtime

CHANNEL_PATTERN = "[a-z]{1,20}"
KEY_MAX_LENGTH = 200


def called_url(request: Request[Any, Any, Any], runtime: Runtime, channel: str) -> str:
    """The URL the provider called, as it signed it: under the public URL
    when one is set (behind a proxy the request's own URL is not it)."""
    public = runtime.settings.public_url
    if not public:
        return str(request.url)
    path = request.app.route_reverse(runtime.route_name("receipt"), channel=channel)
    query = request.scope.get("query_string", b"").decode("latin-1")
    return public.rstrip("/") + path.rstrip("/") + "/" + (f"?{query}" if query else "")


def receipt_routes(runtime: Runtime) -> list[HTTPRouteHandler]:
    operation_ids = links.operation_ids(runtime.name)

    @post(
        "/receipts/{channel:str}/",
        name=runtime.route_name("receipt"),
        status_code=200,
        summary="A provider's delivery receipt",
        description="Where an SMS or Telegram provider reports what became of a login's "
        "code (queued, sent, delivered, failed). Each channel's callback is checked as its "
        "provider signs it: `X-Twilio-Signature` (twilio), `X-Request-Signature` (telegram), "
        "`X-Referrals-Signature` (webhook), the `key` in the URL (smsru, smsc). A receipt "
        "that does not match is refused and changes nothing. Answers the text the provider "
        "expects (`100` for smsru).",
        media_type=MediaType.TEXT,
        responses=error_responses(
            "validation_error", "receipt_refused", "payload_too_large", "service_unavailable"
        ),
        operation_id=operation_ids,
        include_in_schema=True,
    )
    async def receipt(
        request: Request[Any, Any, Any],
        channel: Annotated[
            str,
            PathParameter(
                max_length=20,
                schema_extra={"pattern": f"^{CHANNEL_PATTERN}$"},
                description="`telegram`, `twilio`, `smsru`, `smsc` or `webhook`.",
            ),
        ],
        key: Annotated[
            str,
            QueryParameter(
                max_length=KEY_MAX_LENGTH,
                description="`REFERRALS_RECEIPT_SECRET`, for smsru and smsc.",
            ),
        ] = "",
    ) -> Response[str]:
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        callback = Callback(called_url(request, runtime, channel), headers, body, key)
        reply = await runtime.service.record_receipts(channel, callback)
        return Response(reply, media_type=MediaType.TEXT)

    return [receipt]
