"""Dependencies handlers receive; typed so Litestar skips re-validating them."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Dependency

from referrals.container import UseCases
from referrals.settings import Settings

UseCasesDep = Annotated[UseCases, Dependency(skip_validation=True)]
SettingsDep = Annotated[Settings, Dependency(skip_validation=True)]
