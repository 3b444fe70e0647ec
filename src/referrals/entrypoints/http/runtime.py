"""What our route handlers need at request time, set by the plugin's lifespan."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from referrals.application.errors import ServiceUnavailable
from referrals.service import Service
from referrals.settings import Settings

BEARER_SCHEME = "ReferralsBearer"
COOKIE_SCHEME = "ReferralsSession"
SECURITY: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}, {COOKIE_SCHEME: []}]
"""OpenAPI security of the routes that need a session."""


@dataclass(slots=True)
class Runtime:
    """One mounted API: its settings, the name its routes carry, and the
    service its lifespan opened."""

    settings: Settings
    name: str
    _service: Service | None = None

    @property
    def service(self) -> Service:
        if self._service is None:
            # A host that never ran the app's lifespan (e.g. an ASGI mount).
            raise ServiceUnavailable("referrals (the app's start-up has not run)")
        return self._service

    @contextmanager
    def serving(self, service: Service) -> Iterator[None]:
        """Route handlers use ``service`` until the block ends (the plugin's lifespan)."""
        self._service = service
        try:
            yield
        finally:
            self._service = None

    def route_name(self, route: str) -> str:
        """Unique per mounted API, so two mounts in one app do not collide."""
        return f"{self.name}:{route}"
