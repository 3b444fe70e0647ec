"""The poster: the Standard Webhooks headers, the body, and failures as answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from referrals.adapters.webhooks import HttpWebhookPoster
from referrals.application.outbox import OutboxEvent, event_id
from referrals.application.webhooks import Endpoint

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = 1_800_000_000.0
ENDPOINT = Endpoint("crm", "https://crm.example/hooks", SECRET, frozenset({"*"}))
EVENT = OutboxEvent(event_id(NOW), "user.created", NOW, 7, {"version": 1, "user_id": 7})


async def test_a_post_is_signed_as_the_spec_says_and_carries_the_body() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    poster = HttpWebhookPoster(5.0, client=client, clock=lambda: NOW + 0.7)
    assert (await poster.post(ENDPOINT, EVENT)).ok
    [request] = seen
    assert request.headers["webhook-id"] == EVENT.id
    assert request.headers["webhook-timestamp"] == str(int(NOW))
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    assert body == {
        "type": "user.created",
        "timestamp": "2027-01-15T08:00:00.000Z",
        "data": {"version": 1, "user_id": 7},
    }
    signed = Webhook(SECRET).sign(EVENT.id, datetime.fromtimestamp(NOW, UTC), request.content)
    assert request.headers["webhook-signature"] == signed


async def test_no_answer_is_an_answer_without_a_status() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    for transport, error in ((refuse, "ConnectError"), (hang, "no answer within 5 s")):
        client = httpx.AsyncClient(transport=httpx.MockTransport(transport))
        answer = await HttpWebhookPoster(5.0, client=client).post(ENDPOINT, EVENT)
        assert answer.status is None
        assert not answer.ok
        assert answer.error is not None and answer.error.startswith(error)


async def test_a_server_error_is_not_ok() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(503)))
    answer = await HttpWebhookPoster(5.0, client=client).post(ENDPOINT, EVENT)
    assert (answer.status, answer.ok) == (503, False)
