"""Scripts sent in one pipeline (adapters/redis/support.py, ``run_in_one_trip``):
a script the server does not know (it restarted, or never saw it) is
loaded and run again on its own, exactly once."""

from __future__ import annotations

import secrets

import pytest

from referrals.adapters.redis import connect_redis
from referrals.adapters.redis.support import ScriptCall, run_in_one_trip
from referrals.application.errors import ServiceUnavailable
from tests.defaults import TIMEOUT

pytestmark = pytest.mark.redis


async def test_scripts_the_server_does_not_know_run_once_each_in_order(
    redis_server_url: str, redis_prefix: str
) -> None:
    client = connect_redis(redis_server_url, timeout=TIMEOUT)
    try:
        key = f"{redis_prefix}one-trip"
        unknown = client.register_script(  # a text no server has seen
            f"-- {secrets.token_hex(8)}\nreturn redis.call('INCR', KEYS[1])"
        )
        failing = client.register_script("return redis.error_reply('no')")
        calls = [
            ScriptCall(unknown, [key], []),
            ScriptCall(failing, [key], []),
            ScriptCall(unknown, [key], []),
        ]
        replies = await run_in_one_trip(client, calls)
        assert replies[0] == 1
        assert isinstance(replies[1], ServiceUnavailable)
        assert replies[2] == 2
        assert int(await client.get(key)) == 2
    finally:
        await client.aclose()
