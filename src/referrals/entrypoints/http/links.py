"""OpenAPI links: how one answer's values feed the next request.

A client (or a fuzzer such as schemathesis in its stateful phase) reads
from the document that the login answer's ``token`` is the verify path's
``token`` (and, when codes are exposed, its ``confirm_code`` the body), and
that the verify answer's ``access_token`` is the Bearer session of the
profile and logout operations.

Links name their target by ``operationId``, so every operation of a mount
gets a stable id of its own: ``{name}_{handler}`` (``referrals_verify``,
``referrals_read_profile``…; a handler that takes two methods adds the
method: ``referrals_logout_get``). ``name`` is the plugin's, which already
tells two mounts in one app apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from litestar.openapi.spec import Link, OpenAPIResponse, Operation

if TYPE_CHECKING:
    from litestar.handlers import HTTPRouteHandler
    from litestar.types import Method, OperationIDCreator
    from litestar.types.internal_types import PathParameterDefinition

SESSION = "Bearer {$response.body#/access_token}"
"""The verify answer's session, as the ``Authorization`` header of the next request."""


def operation_id(name: str, handler: str, method: str | None = None) -> str:
    """The ``operationId`` of ``handler`` in the mount called ``name``."""
    return f"{name}_{handler}" + (f"_{method.lower()}" if method else "")


def operation_ids(name: str) -> OperationIDCreator:
    """An ``operation_id`` creator for the route decorators of the mount ``name``."""

    def create(
        handler: HTTPRouteHandler,
        method: Method,
        _: list[str | PathParameterDefinition],
    ) -> str:
        several = len(handler.http_methods) > 1
        return operation_id(name, handler.handler_name, method if several else None)

    return create


def linked(links: Mapping[str, Link], status: int = 200) -> type[Operation]:
    """An ``operation_class`` whose ``status`` answer carries ``links``."""

    @dataclass
    class LinkedOperation(Operation):
        def __post_init__(self) -> None:
            answer = (self.responses or {}).get(str(status))
            if isinstance(answer, OpenAPIResponse):
                answer.links = dict(links)

    return LinkedOperation


def after_login(
    name: str,
    *,
    codes_exposed: bool,
    target: str = "verify",
    param: str = "token",
    same_session: bool = False,
) -> type[Operation]:
    """The login answer leads to verify: its token in the path, and when codes
    are exposed, its ``confirm_code`` in the body (else the SMS has the code).
    A step-up's first answer leads to its ``target`` the same way, and with
    ``same_session`` under the session that asked (its code is bound to that
    user)."""
    body = {"confirm_code": "$response.body#/confirm_code"} if codes_exposed else None
    parameters = {f"path.{param}": "$response.body#/token"}
    if same_session:
        parameters["header.Authorization"] = "$request.header.Authorization"
    return linked(
        {
            target: Link(
                operation_id=operation_id(name, target),
                parameters=parameters,
                request_body=body,
                description="Send the code of this answer to the endpoint that confirms it.",
            )
        }
    )


def after_verify(name: str) -> type[Operation]:
    """The verify answer's session opens the profile and logout operations."""
    session = {"header.Authorization": SESSION}
    targets = {
        "read_profile": "read_profile",
        "apply_referral": "apply_referral",
        "logout": "logout_post",
        "list_sessions": "list_sessions",
        "delete_profile": "delete_profile",
    }
    return linked(
        {
            link: Link(
                operation_id=operation_id(name, target),
                parameters=session,
                description="With the session of this answer as `Authorization: Bearer …`"
                " (the `referrals_session` cookie works as well).",
            )
            for link, target in targets.items()
        }
    )
