"""What every provider adapter shares: one HTTP client, answers sorted into
failures, credentials kept out of every text, and a memory of accepted
messages (see docs/sending-codes.md).
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from typing import Any, Protocol

import httpx

from referrals.adapters.sms.http_slots import CONNECTIONS, SlottedClient
from referrals.application.errors import DeliveryFailed, Failure
from referrals.domain.messages import SmsMessage

log = logging.getLogger("referrals.sms")

TOO_MANY_REQUESTS = 429
SERVER_ERROR = 500
REMEMBERED = 10_000
"""Accepted messages each adapter remembers, so a retry does not send them again."""


class ProviderGateway(Protocol):
    """An SMS gateway holding an HTTP client of its own, to close at the end."""

    async def send(self, message: SmsMessage) -> str | None: ...

    async def aclose(self) -> None: ...


def provider_key(idempotency_key: str) -> str:
    """The key a provider sees: a digest of ours, which is a login's token and
    must not leave the service."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def status_failure(status: int) -> Failure:
    """429 and 5xx are worth another try; any other refusal is not."""
    if status == TOO_MANY_REQUESTS or status >= SERVER_ERROR:
        return Failure.TRANSIENT
    return Failure.PERMANENT


def coded_failure(table: dict[int, Failure], code: object) -> Failure:
    """A provider's error code sorted by ``table``; an unknown code is
    permanent, an answer without one transient (it said nothing we know)."""
    if isinstance(code, int) and not isinstance(code, bool):
        return table.get(code, Failure.PERMANENT)
    return Failure.TRANSIENT


class Unanswered(DeliveryFailed):
    """A request went out and no answer came (a read timeout, a dropped
    connection): the provider may have taken it. Transient, but a retry of
    the same message looks it up first where the provider can say."""

    def __init__(self, message: str) -> None:
        super().__init__(message, Failure.TRANSIENT)


NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Errors that mean the request never reached the provider."""


class Remembered:
    """A map that keeps its :data:`REMEMBERED` newest entries."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str) -> str | None:
        return self._items.get(key)

    def put(self, key: str, value: str) -> str:
        self._items[key] = value
        while len(self._items) > REMEMBERED:
            self._items.popitem(last=False)
        return value

    def pop(self, key: str) -> None:
        self._items.pop(key, None)


class ProviderClient:
    """POSTs to one provider within ``timeout`` seconds per request, at
    most ``connections`` at once (the others wait their turn first, see
    :class:`SlottedClient`).

    A timeout or a connection error raises a transient
    :class:`DeliveryFailed`. ``credentials`` are blanked out of every text
    it raises or logs (:meth:`redact`), and the httpx error is not chained,
    so neither its URL nor its request reaches a log or a trace.
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        timeout: float,
        credentials: tuple[str, ...],
        client: httpx.AsyncClient | None = None,
        connections: int = CONNECTIONS,
    ) -> None:
        self.name = name
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._credentials = tuple(c for c in credentials if c)
        self._client = SlottedClient(timeout, connections, client)
        self._accepted = Remembered()
        self._unanswered = Remembered()

    @property
    def longest_send(self) -> float:
        return self._timeout

    async def aclose(self) -> None:
        await self._client.aclose()

    def redact(self, text: str) -> str:
        for secret in self._credentials:
            text = text.replace(secret, "***")
        return text

    def failed(self, problem: str, failure: Failure) -> DeliveryFailed:
        """The error to raise, and its log line (credentials blanked out)."""
        message = self.redact(f"{self.name}: {problem}")
        if failure is Failure.BALANCE:
            log.error("%s", message)
        else:
            log.warning("%s (%s)", message, failure.value)
        return DeliveryFailed(message, failure)

    async def post(self, path: str, **request: Any) -> httpx.Response:
        """POST ``base_url + path``; ``request`` as httpx takes it (``data``, ``json``…)."""
        try:
            return await self._client.post(self._base_url + path, **request)
        except (httpx.HTTPError, TimeoutError) as exc:
            problem = f"{type(exc).__name__}: {exc}".rstrip(": ")
            failed = self.failed(problem, Failure.TRANSIENT)
            if isinstance(exc, NOT_SENT):
                raise failed from None
            raise Unanswered(str(failed)) from None

    def accepted(self, idempotency_key: str) -> str | None:
        """The message id of a message this adapter sent already, if any."""
        return self._accepted.get(idempotency_key)

    def remember(self, idempotency_key: str, message_id: str) -> str:
        """Note an accepted message: :meth:`accepted` returns its id from now on."""
        return self._accepted.put(idempotency_key, message_id)

    def unanswered(self, idempotency_key: str) -> bool:
        """Whether the last request of this message went unanswered."""
        return self._unanswered.get(idempotency_key) is not None

    def note_unanswered(self, idempotency_key: str, unanswered: bool) -> None:
        if unanswered:
            self._unanswered.put(idempotency_key, "")
        else:
            self._unanswered.pop(idempotency_key)

    def json(self, response: httpx.Response) -> Any:
        """The answer's JSON; a body that is not JSON is a failure by its status."""
        try:
            return response.json()
        except ValueError:
            status = response.status_code
            failure = Failure.TRANSIENT if response.is_success else status_failure(status)
            raise self.failed(f"HTTP {response.status_code}, not JSON", failure) from None

    def json_object(self, response: httpx.Response) -> dict[str, Any]:
        """The JSON object of a 2xx answer; anything else fails by its status."""
        answer = self.json(response)
        if not response.is_success or not isinstance(answer, dict):
            status = response.status_code
            raise self.failed(f"HTTP {status}", status_failure(status))
        return answer


class ProviderGatewayBase:
    """A provider adapter's common part: a subclass sets ``_http`` and gives
    :meth:`_send`; a message this adapter sent already is not sent again."""

    _http: ProviderClient

    @property
    def longest_send(self) -> float:
        """About the most seconds one :meth:`send` takes."""
        return self._http.longest_send

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, message: SmsMessage) -> str:
        key = message.idempotency_key
        if sent := self._http.accepted(key):
            return sent
        if self._http.unanswered(key) and (found := await self._sent_already(message)):
            log.info("%s had taken the message its answer was lost for", self._http.name)
            self._http.note_unanswered(key, unanswered=False)
            return self._http.remember(key, found)
        try:
            message_id = await self._send(message)
        except Unanswered:
            self._http.note_unanswered(key, unanswered=True)
            raise
        self._http.note_unanswered(key, unanswered=False)
        return self._http.remember(key, message_id)

    async def _send(self, message: SmsMessage) -> str:
        """Hand ``message`` to the provider: its message id, or raise ``DeliveryFailed``."""
        raise NotImplementedError

    async def _sent_already(self, message: SmsMessage) -> str | None:
        """After an unanswered send: the message's id if the provider has it,
        ``None`` if it does not or cannot say (then it is sent again)."""
        return None
