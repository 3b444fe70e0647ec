import pytest

from referrals.application.errors import NotAuthenticated
from tests.unit.conftest import World


async def test_a_session_lasts_thirty_days(world: World) -> None:
    verified = await world.sign_in("+79991234567")
    world.clock.advance(30 * 86400 - 1)
    assert await world.authenticate(verified.session.token) == verified.profile.id
    world.clock.advance(1)
    with pytest.raises(NotAuthenticated):
        await world.authenticate(verified.session.token)


async def test_logout_revokes_the_session_at_once(world: World) -> None:
    verified = await world.sign_in("+79991234567")
    await world.logout(verified.session.token)
    with pytest.raises(NotAuthenticated):
        await world.authenticate(verified.session.token)


@pytest.mark.parametrize("token", [None, "", "made-up"])
async def test_missing_or_unknown_tokens_are_not_authenticated(
    world: World, token: str | None
) -> None:
    with pytest.raises(NotAuthenticated):
        await world.authenticate(token)


async def test_logout_without_a_session_does_nothing(world: World) -> None:
    await world.logout(None)
    await world.logout("made-up")


async def test_only_a_digest_of_the_token_is_stored(world: World) -> None:
    verified = await world.sign_in("+79991234567")
    stored = repr(world.sessions.__dict__)
    assert verified.session.token not in stored
