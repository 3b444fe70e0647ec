"""``Cache-Control: no-store`` on every answer of the API's routes.

Those answers carry login tokens, codes (when exposed), session tokens and
phone numbers: no browser cache or shared proxy may keep them. A router
middleware sees every answer of its routes, the problem details their
handlers or guards raise included.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

NO_STORE = "no-store"


def no_store(app: ASGIApp) -> ASGIApp:
    """Wrap ``app`` so that every answer it starts says ``Cache-Control: no-store``."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_uncached(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)["Cache-Control"] = NO_STORE
            await send(message)

        await app(scope, receive, send_uncached)

    return middleware
