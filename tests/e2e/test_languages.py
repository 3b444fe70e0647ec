"""English or Russian by ``Accept-Language``: problem titles and details, field
messages, the page and the SMS; the error ``code``s stay the same."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from referrals.application.ports import Limit
from tests.e2e.conftest import (
    PHONE,
    MakeApi,
    assert_problem,
    bearer,
    exposed_policy,
    login,
    verify,
    wrong,
)
from tests.e2e.test_page import parse

RU = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}


async def test_a_validation_error_in_russian_keeps_its_code(
    client: AsyncTestClient[Any],
) -> None:
    response = await client.post("/api/login/", json={"phone": 79991234567}, headers=RU)

    body = assert_problem(response, 400, "validation_error")
    assert body["title"] == "Неверный запрос"
    assert body["detail"] == "Некоторые поля запроса заполнены неверно."
    assert body["errors"] == [
        {"field": "phone", "message": "Неверный тип: ожидается текст, получено: целое число."}
    ]
    assert response.headers["content-language"] == "ru"
    assert "accept-language" in response.headers["vary"].lower()


async def test_missing_fields_bad_phones_and_bad_json_are_russian_too(
    client: AsyncTestClient[Any],
) -> None:
    missing = await client.post("/api/login/", json={}, headers=RU)
    invalid = await client.post("/api/login/", json={"phone": "123"}, headers=RU)
    not_json = await client.post(
        "/api/login/", content=b"{oops", headers={**RU, "Content-Type": "application/json"}
    )

    assert assert_problem(missing, 400, "validation_error")["errors"] == [
        {"field": "phone", "message": "Это поле обязательно."}
    ]
    assert assert_problem(invalid, 400, "validation_error")["errors"] == [
        {"field": "phone", "message": "Неверный номер телефона."}
    ]
    assert assert_problem(not_json, 400, "validation_error")["detail"] == (
        "Тело запроса не является корректным JSON."
    )


async def test_a_wrong_code_in_russian_gives_the_attempts_left(
    client: AsyncTestClient[Any],
) -> None:
    challenge = await login(client)

    response = await verify(client, challenge.token, wrong(challenge.code), headers=RU)

    body = assert_problem(response, 400, "code_invalid")
    assert (body["title"], body["detail"]) == ("Неверный запрос", "Неверный код подтверждения.")
    assert body["attempts_left"] == 4


async def test_refusals_of_every_kind_speak_russian(client: AsyncTestClient[Any]) -> None:
    unauthenticated = await client.get("/api/profile/", headers={**RU, **bearer("nope")})
    expired = await verify(client, "no-such-token", "1234", headers=RU)
    media = await client.post(
        "/api/login/", content=b"phone=1", headers={**RU, "Content-Type": "text/plain"}
    )

    body = assert_problem(unauthenticated, 401, "not_authenticated")
    assert body["title"] == "Требуется авторизация"
    assert body["detail"] == "Сначала войдите: сессии нет, она истекла или была отозвана."
    assert assert_problem(expired, 400, "challenge_expired")["detail"] == (
        "Этот вход истёк или уже использован; запросите новый код."
    )
    assert assert_problem(media, 415, "unsupported_media_type")["title"] == (
        "Неподдерживаемый тип данных"
    )


@pytest.mark.standalone
async def test_an_unknown_path_is_russian_too(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/no/such/path", headers=RU)

    body = assert_problem(response, 404, "not_found")
    assert (body["title"], body["detail"]) == ("Не найдено", "По этому адресу ничего нет.")


async def test_a_rate_limit_in_russian_keeps_its_code_and_limit(make_api: MakeApi) -> None:
    api = await make_api(exposed_policy(ip_send=Limit(1, 3600)))
    await login(api.client)

    response = await api.client.post("/api/login/", json={"phone": "+79997654321"}, headers=RU)

    body = assert_problem(response, 429, "rate_limited")
    assert (body["title"], body["limit"]) == ("Слишком много запросов", "ip_send")
    assert body["detail"] == "Слишком много запросов; попробуйте позже."


async def test_english_is_the_default_and_q_values_decide(client: AsyncTestClient[Any]) -> None:
    plain = await client.post("/api/login/", json={})
    prefers_english = await client.post(
        "/api/login/", json={}, headers={"Accept-Language": "ru;q=0.3, en-GB;q=0.8"}
    )
    only_german = await client.post("/api/login/", json={}, headers={"Accept-Language": "de"})

    for response in (plain, prefers_english, only_german):
        body = assert_problem(response, 400, "validation_error")
        assert body["detail"] == "The request has invalid fields."
        assert body["errors"] == [{"field": "phone", "message": "This field is required."}]
        assert response.headers["content-language"] == "en"


async def test_the_sms_of_a_russian_login_is_russian(make_api: MakeApi) -> None:
    api = await make_api()
    await login(api.client, PHONE, headers=RU)
    await login(api.client, "+79997654321")

    russian, english = api.delivered()

    assert russian.text.startswith("Код входа: ")
    assert english.text.startswith("Your login code: ")


@pytest.mark.standalone
async def test_the_page_is_russian_for_a_russian_browser(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/", headers=RU)

    assert response.headers["content-language"] == "ru"
    assert "accept-language" in response.headers["vary"].lower()
    assert '<html lang="ru">' in response.text
    assert "<title>Вход по номеру телефона</title>" in response.text
    assert '<label for="phone">Номер телефона</label>' in response.text
    messages = parse(response.text).messages
    assert messages["code_sent"] == "Код отправлен на номер {phone}."
    assert messages["attempts_left"] == "Осталось попыток: {attempts_left}."


@pytest.mark.standalone
async def test_the_page_is_english_by_default(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/")

    assert response.headers["content-language"] == "en"
    assert '<html lang="en">' in response.text
    assert "<title>Sign in with your phone</title>" in response.text
