"""``OPTIONS`` for a path served by several handlers."""

from litestar import Response, route
from litestar.handlers import HTTPRouteHandler


def options_route(path: str, name: str, *handlers: HTTPRouteHandler) -> HTTPRouteHandler:
    """Answer ``OPTIONS`` on ``path`` with every method of ``handlers`` in ``Allow``.

    Litestar 2 answers ``OPTIONS`` with the methods of the first handler registered on
    a path only (litestar-org/litestar#4169, fixed in 3.0), so we say it ourselves.
    Register the returned handler before ``handlers``, or Litestar adds its own.
    """
    allow = ", ".join(sorted({"OPTIONS", *(m for h in handlers for m in h.http_methods)}))

    @route(path, name=name, http_method=["OPTIONS"], include_in_schema=False, sync_to_thread=False)
    def options() -> Response[None]:
        return Response(None, status_code=204, headers={"Allow": allow})

    return options
