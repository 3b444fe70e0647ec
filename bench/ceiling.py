"""The ceiling: the least a Litestar app can do per request, on our server settings.

    PYTHONPATH=. referrals serve --app bench.ceiling:create_app

One ``GET /`` answering ``{"hello": "world"}`` as JSON. Served by ``referrals
serve --app``, it runs on exactly the server software and options that serve
the API, so the API's figures divided by this one's say what our own code
costs, whatever the machine.
"""

from __future__ import annotations

from litestar import Litestar, get


@get("/", sync_to_thread=False)
def hello() -> dict[str, str]:
    return {"hello": "world"}


def create_app() -> Litestar:
    return Litestar(route_handlers=[hello])
