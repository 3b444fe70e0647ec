"""X-Request-ID: on every answer; the caller's own only from a trusted proxy."""

from __future__ import annotations

import ipaddress
import logging
import re

import pytest

from referrals.entrypoints.logs import RequestIdFilter
from tests.e2e.conftest import PHONE, Api, MakeApi

PROXY = (ipaddress.ip_network("10.0.0.0/8"),)
GENERATED = re.compile(r"[0-9a-f]{16}")


async def test_every_answer_carries_a_fresh_request_id(api: Api) -> None:
    login = await api.client.post("/api/login/", json={"phone": PHONE})
    missing = await api.client.get("/api/nowhere/")
    profile = await api.client.get("/api/profile/")
    ids = [r.headers["x-request-id"] for r in (login, missing, profile)]
    assert [r.status_code for r in (login, missing, profile)] == [200, 404, 401]
    assert all(GENERATED.fullmatch(i) for i in ids)
    assert len(set(ids)) == 3


async def test_a_trusted_proxys_request_id_is_kept(make_api: MakeApi) -> None:
    api = await make_api(peer="10.1.2.3", trusted_proxies=PROXY)
    answer = await api.client.get("/api/profile/", headers={"X-Request-ID": "edge-42.a:b"})
    assert answer.headers.get_list("x-request-id") == ["edge-42.a:b"]


@pytest.mark.parametrize("peer", [None, "192.0.2.9"])
async def test_anyone_elses_request_id_is_replaced(make_api: MakeApi, peer: str | None) -> None:
    api = await make_api(peer=peer, trusted_proxies=PROXY)
    answer = await api.client.get("/api/profile/", headers={"X-Request-ID": "mine"})
    assert GENERATED.fullmatch(answer.headers["x-request-id"])


async def test_a_malformed_request_id_from_a_trusted_proxy_is_replaced(
    make_api: MakeApi,
) -> None:
    api = await make_api(peer="10.1.2.3", trusted_proxies=PROXY)
    for bad in ("a b", "x" * 129, "bad/slash", "semi;colon"):
        answer = await api.client.get("/api/profile/", headers={"X-Request-ID": bad})
        assert GENERATED.fullmatch(answer.headers["x-request-id"])


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self.addFilter(RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_log_lines_of_a_request_and_its_delivery_name_its_id(make_api: MakeApi) -> None:
    api = await make_api(peer="10.1.2.3", trusted_proxies=PROXY)
    logger, capture = logging.getLogger("referrals"), Capture()
    level = logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.INFO)
    try:
        headers = {"X-Request-ID": "r-1"}
        await api.client.post("/api/login/", json={"phone": PHONE}, headers=headers)
        api.delivered()
    finally:
        logger.removeHandler(capture)
        logger.setLevel(level)
    sending = [r for r in capture.records if r.getMessage().startswith("sending a code to")]
    assert [getattr(r, "request_id", None) for r in sending] == ["r-1"]


def test_generated_ids_do_not_repeat() -> None:
    from referrals.entrypoints.http.request_id import new_request_id

    ids = [new_request_id() for _ in range(100_000)]
    assert len(set(ids)) == len(ids)
    assert all(GENERATED.fullmatch(i) for i in ids[:10])
