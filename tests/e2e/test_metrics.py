"""``GET /metrics`` of the standalone app in one process: on by default,
off or moved by settings, bounded labels."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import PHONE, Api, MakeApi

pytestmark = pytest.mark.standalone


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_requests_are_counted_by_route_template_and_never_by_path(api: Api) -> None:
    login = await api.client.post("/api/login/", json={"phone": PHONE})
    token = login.json()["token"]
    await api.client.post(f"/api/verify/{token}/", json={"confirm_code": "12"})
    await api.client.request("BREW", "/api/login/")
    await api.client.get(f"/no/{token}")

    scraped = await api.client.get("/metrics")

    assert scraped.status_code == 200
    # Prometheus' text format, with its charset once (it was given twice).
    assert scraped.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    found = samples(scraped.text)
    verify = {("route", "/api/verify/{token}"), ("method", "POST"), ("status", "400")}
    assert found[("referrals_http_requests_total", frozenset(verify))] == 1
    unmatched = {("route", "unmatched"), ("method", "GET"), ("status", "404")}
    assert found[("referrals_http_requests_total", frozenset(unmatched))] == 1
    assert any(("method", "other") in labels for _, labels in found)
    text = scraped.text
    assert token not in text and PHONE not in text and "BREW" not in text
    assert found[("referrals_codes_requested_total", frozenset())] == 1


async def test_metrics_can_be_turned_off(make_api: MakeApi) -> None:
    api = await make_api(metrics=False)
    assert (await api.client.get("/metrics")).status_code == 404


async def test_a_metrics_port_takes_them_off_the_api(make_api: MakeApi) -> None:
    api = await make_api(metrics_port=9464)
    assert (await api.client.get("/metrics")).status_code == 404
