"""A shop's own Litestar app with the referrals API mounted under ``/auth``.

``/orders`` is the shop's route: it needs a referrals session (Bearer token
or cookie) and receives the signed-in user. New users get a welcome bonus
from a hook. Serve it: ``referrals serve --app app:create_app`` (or any
ASGI server, e.g. ``granian --interface asgi --factory app:create_app``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar import Litestar, get
from litestar.di import NamedDependency
from litestar.openapi import OpenAPIConfig

from referrals import Hooks, Settings, User, UserCreated, load_settings
from referrals.entrypoints.http import ReferralsPlugin
from referrals.service import Adapters


@dataclass
class Bonuses:
    """The shop's own state: a welcome bonus per new user."""

    by_user: dict[int, int] = field(default_factory=dict)

    async def welcome(self, event: UserCreated) -> None:
        self.by_user[event.user_id] = 100


@dataclass(frozen=True)
class Orders:
    user_id: int
    phone: str
    bonus: int
    orders: list[str]


def create_app(
    settings: Settings | None = None,
    *,
    adapters: Adapters | None = None,
    bonuses: Bonuses | None = None,
) -> Litestar:
    bonuses = bonuses or Bonuses()
    hooks = Hooks()
    hooks.add(UserCreated, bonuses.welcome)
    referrals = ReferralsPlugin(
        settings or load_settings(), path="/auth", adapters=adapters, hooks=hooks
    )

    @get("/orders", dependencies={"user": referrals.current_user}, sync_to_thread=False)
    def orders(user: NamedDependency[User]) -> Orders:
        return Orders(user.id, user.phone, bonuses.by_user.get(user.id, 0), orders=[])

    return Litestar(
        route_handlers=[orders],
        plugins=[referrals],
        openapi_config=OpenAPIConfig(title="shop", version="1.0"),
    )
