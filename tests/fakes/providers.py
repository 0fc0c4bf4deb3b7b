"""One local fake of every provider API the gateway calls: Twilio, Telegram, Meta Graph, Slack.

A single aiohttp server on 127.0.0.1 (a free port) serves each provider under its own path
root and answers in the provider's documented response shape. It records every request, can
wait for requests without sleeping, and injects failures, delays and outages on demand::

    async with FakeProviders() as fake:
        settings = replace(settings, twilio_api_base_url=fake.twilio_base_url, ...)
        ...
        await fake.wait_for(lambda r: r.api == "sendMessage")
        fake.fail_next("twilio", status=500, times=2)

Paths in :class:`RecordedRequest` are relative to the provider's root (``/twilio``,
``/telegram``, ``/meta``, ``/slack``), so a Twilio send is recorded as
``/2010-04-01/Accounts/AC…/Messages.json``, a Telegram call as ``/bot<token>/sendMessage``, a
Graph call as ``/v21.0/me/messages`` and a Slack call as ``/api/chat.postMessage``.
``RecordedRequest.api`` is the short name (``sendMessage``, ``chat.postMessage``,
``/me/messages``, the Twilio path). See tests/fakes/README.md.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import itertools
import json
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

PROVIDERS = ("twilio", "telegram", "meta", "slack")
GRAPH_VERSION = "v21.0"
TWILIO_API_VERSION = "2010-04-01"
TELEGRAM_MAX_TEXT = 4096
MESSENGER_MAX_TEXT = 2000
WHATSAPP_MAX_TEXT = 4096
TWILIO_MAX_BODY = 1600
# 2023-11-14T22:13:20Z: the fixed clock the fake's Slack ts values count up from.
SLACK_TS_BASE_US = 1_700_000_000_000_000

Json = dict[str, Any]


@dataclass
class RecordedRequest:
    """One request the fake received, as the provider would have seen it."""

    provider: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, Any] | None
    json: Any
    body: bytes
    at: float
    api: str = ""
    status: int | None = None  # filled in once the response is decided
    response: Any = None  # the JSON (or text) answered

    @property
    def params(self) -> dict[str, Any]:
        """Query, form and JSON arguments merged (JSON wins): what the call asked for."""
        merged: dict[str, Any] = dict(self.query)
        if self.form:
            merged.update(self.form)
        if isinstance(self.json, dict):
            merged.update(self.json)
        return merged


@dataclass
class _Rule:
    """A pending injected failure or delay."""

    times: int
    path: str | None
    status: int = 500
    retry_after: int | None = None
    error: str | None = None
    seconds: float = 0.0


@dataclass
class _TwilioMessage:
    resource: Json
    requested_status: str = "queued"


def _path_matcher(pattern: str) -> re.Pattern[str]:
    """A template like ``/2010-04-01/Accounts/{sid}/Messages.json`` as an anchored regex."""
    parts = re.split(r"(\{[^}/]*\})", pattern)
    regex = "".join("[^/]+" if p[:1] == "{" and p[-1:] == "}" else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


def _matches(record: RecordedRequest, path: str | None) -> bool:
    if path is None:
        return True
    return record.api == path or bool(_path_matcher(path).match(record.path))


def _hex(n: int) -> str:
    return secrets.token_hex(n // 2)


def _fbtrace_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(8)).decode().rstrip("=")[:11]


def _rfc2822(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=False).replace("-0000", "+0000")


def _gsm7(text: str) -> bool:
    gsm = (
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
    )
    return all(ch in gsm for ch in text)


def sms_segments(text: str) -> int:
    """How many SMS segments Twilio bills for ``text``.

    GSM-7: 160 characters, or 153 a segment when split; otherwise UCS-2: 70 UTF-16 code
    units, or 67 a segment (an emoji outside the BMP takes two).
    """
    if _gsm7(text):
        length, single, multi = len(text), 160, 153
    else:
        length, single, multi = len(text.encode("utf-16-le")) // 2, 70, 67
    if length <= single:
        return 1
    return -(-length // multi)


# Arguments that carry objects; form-encoded calls send them as JSON strings.
TELEGRAM_OBJECT_ARGS = frozenset(
    {"reply_markup", "allowed_updates", "entities", "link_preview_options", "reply_parameters"}
)
SLACK_OBJECT_ARGS = frozenset({"blocks", "attachments", "metadata", "files"})


def _basic_auth(header: str) -> tuple[str, str] | None:
    """(user, password) from an ``Authorization: Basic`` header, or None."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = (
            base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        )
    except ValueError:
        return None
    return (user, password) if sep else None


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return value


def _decode_args(params: dict[str, Any], keys: frozenset[str] | None) -> dict[str, Any]:
    """Decode the JSON-string arguments among ``params`` (``keys``; every one when None)."""
    return {k: _maybe_json(v) if keys is None or k in keys else v for k, v in params.items()}


class FakeProviders:
    """Twilio, Telegram Bot API, Meta Graph and Slack Web API fakes on one local aiohttp server.

    Use as ``async with FakeProviders() as fake:``; point the gateway (or an SDK) at
    ``fake.twilio_base_url``, ``fake.telegram_base_url``, ``fake.meta_base_url`` and
    ``fake.slack_base_url``.
    """

    def __init__(
        self,
        *,
        twilio_account_sid: str = "AC" + "0" * 32,
        twilio_auth_token: str = "twilio-test-auth-token",
        telegram_token: str = "123456:TEST-token",
        meta_token: str = "EAAG-test-page-token",
        slack_token: str = "xoxb-test",
        graph_version: str = GRAPH_VERSION,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.twilio_account_sid = twilio_account_sid
        self.twilio_auth_token = twilio_auth_token
        self.telegram_token = telegram_token
        self.meta_token = meta_token
        self.slack_token = slack_token
        self.graph_version = graph_version
        self.host = host
        self.port = port

        self.requests: list[RecordedRequest] = []
        self._condition = asyncio.Condition()
        self._failures: dict[str, list[_Rule]] = {p: [] for p in PROVIDERS}
        self._delays: dict[str, list[_Rule]] = {p: [] for p in PROVIDERS}
        self._down: set[str] = set()
        self._runner: web.AppRunner | None = None

        # Provider state, open for tests to read or seed.
        self.twilio_messages: dict[str, _TwilioMessage] = {}
        self.telegram_bot: Json = {
            "id": int(telegram_token.split(":", 1)[0]) if telegram_token[:1].isdigit() else 1,
            "is_bot": True,
            "first_name": "Onethread Test Bot",
            "username": "onethread_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.telegram_webhook: Json = {}
        self.telegram_messages: dict[tuple[int | str, int], Json] = {}
        self._telegram_message_ids = itertools.count(1)
        self.slack_team: Json = {"id": "T0TESTTEAM", "name": "Onethread Test"}
        self.slack_bot_user_id = "U0TESTBOT"
        self.slack_bot_id = "B0TESTBOT"
        self.slack_app_id = "A0TESTAPP"
        self.slack_users: dict[str, Json] = {}
        self.slack_channels: dict[str, Json] = {}
        self.slack_messages: dict[tuple[str, str], Json] = {}
        self.slack_reactions: set[tuple[str, str, str]] = set()
        self.slack_files: dict[str, Json] = {}
        self._slack_ts = itertools.count(1)
        # Socket Mode: the app-level token apps.connections.open takes, the open sockets, and the
        # envelope ids the app acknowledged (with any response payload).
        self.slack_app_token = "xapp-1-A0TESTAPP-1-test"
        self.slack_sockets: list[web.WebSocketResponse] = []
        self.slack_socket_acks: dict[str, Json] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def twilio_base_url(self) -> str:
        """Stands in for ``https://api.twilio.com``."""
        return f"{self.base_url}/twilio"

    @property
    def telegram_base_url(self) -> str:
        """Stands in for ``https://api.telegram.org``: methods at ``{this}/bot{token}/{method}``."""
        return f"{self.base_url}/telegram"

    @property
    def meta_base_url(self) -> str:
        """Stands in for ``https://graph.facebook.com/v21.0`` (version included)."""
        return f"{self.base_url}/meta/{self.graph_version}"

    @property
    def slack_base_url(self) -> str:
        """Stands in for ``https://slack.com/api/`` (trailing slash, as slack_sdk expects)."""
        return f"{self.base_url}/slack/api/"

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/slack-socket/link", self._slack_socket)
        for provider in PROVIDERS:
            handler = self._make_handler(provider)
            app.router.add_route("*", f"/{provider}", handler)
            app.router.add_route("*", f"/{provider}/{{tail:.*}}", handler)
        return app

    async def _slack_socket(self, request: web.Request) -> web.WebSocketResponse:
        """Slack's Socket Mode WebSocket: says hello, then carries envelopes and their acks."""
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.slack_sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self.slack_sockets),
                "connection_info": {"app_id": self.slack_app_id},
            }
        )
        async with self._condition:
            self._condition.notify_all()
        async for msg in ws:
            if msg.type != web.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if "envelope_id" in data:
                async with self._condition:
                    self.slack_socket_acks[data["envelope_id"]] = data
                    self._condition.notify_all()
        self.slack_sockets.remove(ws)
        return ws

    async def slack_socket_send(self, kind: str, payload: Json, wait: float = 10.0) -> Json:
        """Push one envelope (`events_api`, `interactive`, `slash_commands`) over the newest
        socket, once an app is connected; returns the app's acknowledgement."""
        envelope_id = secrets.token_hex(8)
        async with self._condition:
            await asyncio.wait_for(
                self._condition.wait_for(lambda: bool(self.slack_sockets)), wait
            )
        await self.slack_sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
            }
        )
        async with self._condition:
            await asyncio.wait_for(
                self._condition.wait_for(lambda: envelope_id in self.slack_socket_acks), wait
            )
        return self.slack_socket_acks[envelope_id]

    async def start(self) -> FakeProviders:
        self._runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeProviders:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- recording and waiting ---------------------------------------------------------------

    def calls(
        self,
        provider: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> list[RecordedRequest]:
        """Recorded requests of ``provider`` (all when None), optionally by HTTP method and path.

        ``path`` is a path relative to the provider root with ``{placeholders}`` for any one
        segment (``/2010-04-01/Accounts/{sid}/Messages.json``, ``/bot{token}/sendMessage``), or
        an API name (``sendMessage``, ``chat.postMessage``, ``/me/messages``).
        """
        return [
            r
            for r in self.requests
            if (provider is None or r.provider == provider)
            and (method is None or r.method == method.upper())
            and _matches(r, path)
        ]

    def count(
        self, provider: str | None = None, method: str | None = None, path: str | None = None
    ) -> int:
        return len(self.calls(provider, method, path))

    def counts(self, provider: str | None = None) -> Counter[tuple[str, str, str]]:
        """How many calls each (provider, HTTP method, api) received."""
        return Counter(
            (r.provider, r.method, r.api)
            for r in self.requests
            if provider is None or r.provider == provider
        )

    def clear(self) -> None:
        """Forget the recorded requests (state such as sent messages is kept)."""
        self.requests.clear()

    async def wait_for(
        self,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 (the fixture's API: one call, one deadline)
    ) -> list[RecordedRequest]:
        """Wait until at least ``count`` recorded requests satisfy ``predicate``; return them.

        Woken by each new request (an :class:`asyncio.Condition`), never by polling. Raises
        :class:`TimeoutError` with what was recorded if it does not happen in ``timeout``.
        """
        pred = predicate or (lambda _r: True)

        def matching() -> list[RecordedRequest]:
            return [r for r in self.requests if pred(r)]

        try:
            async with asyncio.timeout(timeout), self._condition:
                await self._condition.wait_for(lambda: len(matching()) >= count)
        except TimeoutError:
            seen = [f"{r.provider} {r.method} {r.path}" for r in self.requests]
            raise TimeoutError(
                f"{len(matching())}/{count} matching requests after {timeout}s; recorded: {seen}"
            ) from None
        return matching()

    # -- fault injection ---------------------------------------------------------------------

    def fail_next(
        self,
        provider: str,
        status: int = 500,
        times: int = 1,
        *,
        path: str | None = None,
        retry_after: int | None = None,
        error: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``provider`` (optionally only ``path``) with an error.

        The error is in the provider's own shape. ``status=429`` carries ``retry_after`` the
        provider's way (Retry-After header; Telegram: ``parameters.retry_after``). For Slack,
        ``status=200, error="channel_not_found"`` gives an ``{"ok": false}`` answer; for
        Telegram ``error`` replaces the description.
        """
        self._check(provider)
        if status == 429 and retry_after is None:
            retry_after = 1
        self._failures[provider].append(
            _Rule(times=times, path=path, status=status, retry_after=retry_after, error=error)
        )

    def delay_next(
        self, provider: str, seconds: float, times: int = 1, *, path: str | None = None
    ) -> None:
        """Hold the next ``times`` responses of ``provider`` for ``seconds`` each."""
        self._check(provider)
        self._delays[provider].append(_Rule(times=times, path=path, seconds=seconds))

    def down(self, provider: str) -> None:
        """Every call to ``provider`` fails with 503 until :meth:`up`."""
        self._check(provider)
        self._down.add(provider)

    def up(self, provider: str) -> None:
        self._check(provider)
        self._down.discard(provider)

    def reset_faults(self) -> None:
        for rules in (*self._failures.values(), *self._delays.values()):
            rules.clear()
        self._down.clear()

    @staticmethod
    def _check(provider: str) -> None:
        if provider not in PROVIDERS:
            raise ValueError(f"unknown provider {provider!r}; one of {PROVIDERS}")

    @staticmethod
    def _take(rules: list[_Rule], record: RecordedRequest) -> _Rule | None:
        for rule in rules:
            if _matches(record, rule.path):
                rule.times -= 1
                if rule.times <= 0:
                    rules.remove(rule)
                return rule
        return None

    # -- dispatch ----------------------------------------------------------------------------

    def _make_handler(self, provider: str) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.StreamResponse:
            record = await self._record(provider, request)
            delay = self._take(self._delays[provider], record)
            if delay is not None:
                await asyncio.sleep(delay.seconds)
            if provider in self._down:
                response = self._error(provider, 503, None, None)
            elif (rule := self._take(self._failures[provider], record)) is not None:
                response = self._error(provider, rule.status, rule.retry_after, rule.error)
            else:
                response = await getattr(self, f"_{provider}")(request, record)
            record.status = response.status
            if isinstance(response, web.Response) and response.body is not None:
                text = response.text or ""
                record.response = (
                    json.loads(text) if response.content_type == "application/json" else text
                )
            return response

        return handler

    async def _record(self, provider: str, request: web.Request) -> RecordedRequest:
        form: dict[str, Any] | None = None
        body_json: Any = None
        body = b""
        ctype = request.content_type
        if ctype == "multipart/form-data":
            form = {}
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    form[key] = {
                        "filename": value.filename,
                        "content_type": value.content_type,
                        "data": value.file.read(),
                    }
                else:
                    form[key] = value
        else:
            body = await request.read()
            if ctype == "application/x-www-form-urlencoded":
                form = {}
                for key, value in (await request.post()).items():
                    # Repeated fields (Twilio's MediaUrl) become lists.
                    if key in form:
                        prev = form[key]
                        form[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
                    else:
                        form[key] = value
            elif ctype == "application/json" and body:
                with contextlib.suppress(ValueError):
                    body_json = json.loads(body)
        path = "/" + request.match_info.get("tail", "")
        record = RecordedRequest(
            provider=provider,
            method=request.method,
            path=path,
            query=dict(request.query),
            headers=dict(request.headers),
            form=form,
            json=body_json,
            body=body,
            at=time.time(),
            api=self._api_name(provider, path),
        )
        async with self._condition:
            self.requests.append(record)
            self._condition.notify_all()
        return record

    @staticmethod
    def _api_name(provider: str, path: str) -> str:
        parts = path.strip("/").split("/")
        if provider == "telegram" and len(parts) >= 2:
            return parts[-1]
        if provider == "slack":
            if parts[0] == "api" and len(parts) > 1:
                return parts[1]
            return "upload" if parts[0] == "upload" else path
        if provider == "meta" and re.fullmatch(r"v\d+\.\d+", parts[0]):
            return "/" + "/".join(parts[1:])
        return path

    def _error(
        self, provider: str, status: int, retry_after: int | None, error: str | None
    ) -> web.Response:
        headers = {}
        if retry_after is not None and provider != "telegram":
            headers["Retry-After"] = str(retry_after)
        if provider == "twilio":
            message = error or {429: "Too Many Requests", 503: "Service Unavailable"}.get(
                status, "Internal Server Error"
            )
            body = self._twilio_error(status, 20000 + status if status >= 400 else 20500, message)
        elif provider == "telegram":
            if status == 429:
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {retry_after}",
                        "parameters": {"retry_after": retry_after},
                    },
                    status=429,
                )
            desc = error or {
                400: "Bad Request",
                401: "Unauthorized",
                403: "Forbidden: bot was blocked by the user",
                502: "Bad Gateway",
                503: "Service Unavailable",
            }.get(status, "Internal Server Error")
            body = {"ok": False, "error_code": status, "description": desc}
        elif provider == "meta":
            if status == 429:
                body = self._graph_error(
                    4, error or "(#4) Application request limit reached", transient=True
                )
            else:
                body = self._graph_error(
                    2,
                    error or "An unexpected error has occurred. Please retry your request later.",
                    transient=True,
                )
        else:
            code = {429: "ratelimited", 503: "service_unavailable"}.get(status, "fatal_error")
            body = {"ok": False, "error": error or code}
        return web.json_response(body, status=status, headers=headers)

    # -- Twilio ------------------------------------------------------------------------------

    @staticmethod
    def _twilio_error(status: int, code: int, message: str, detail: str | None = None) -> Json:
        body: Json = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        if detail:
            body["detail"] = detail
        return body

    async def _twilio(self, request: web.Request, record: RecordedRequest) -> web.Response:
        m = re.fullmatch(
            r"/2010-04-01/Accounts/(?P<account>[^/]+)/Messages(?:/(?P<sid>[^/]+))?\.json",
            record.path,
        )
        auth = _basic_auth(request.headers.get("Authorization", ""))
        if auth is None:
            return web.json_response(
                self._twilio_error(
                    401,
                    20003,
                    "Authentication Error - No credentials provided",
                    "Your AccountSid or AuthToken was incorrect.",
                ),
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="Twilio API"'},
            )
        if auth != (self.twilio_account_sid, self.twilio_auth_token) or (
            m is not None and m["account"] != self.twilio_account_sid
        ):
            return web.json_response(
                self._twilio_error(
                    401, 20003, "Authenticate", "Your AccountSid or AuthToken was incorrect."
                ),
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="Twilio API"'},
            )
        if m is None:
            return self._twilio_not_found(record.path)
        if m["sid"] is None and request.method == "POST":
            return self._twilio_create(record)
        if m["sid"] is not None and request.method in ("GET", "POST"):
            message = self.twilio_messages.get(m["sid"])
            if message is None:
                return self._twilio_not_found(record.path)
            if request.method == "POST" and record.form:  # update: redact body or cancel
                if "Body" in record.form:
                    message.resource["body"] = record.form["Body"]
                if record.form.get("Status") == "canceled":
                    message.resource["status"] = "canceled"
            return web.json_response(message.resource)
        if m["sid"] is None and request.method == "GET":
            page = [msg.resource for msg in reversed(self.twilio_messages.values())]
            uri = f"/2010-04-01/Accounts/{self.twilio_account_sid}/Messages.json"
            return web.json_response(
                {
                    "messages": page,
                    "uri": f"{uri}?PageSize=50&Page=0",
                    "first_page_uri": f"{uri}?PageSize=50&Page=0",
                    "next_page_uri": None,
                    "previous_page_uri": None,
                    "page": 0,
                    "page_size": 50,
                    "start": 0,
                    "end": max(len(page) - 1, 0),
                }
            )
        return web.json_response(self._twilio_error(405, 20004, "Method not allowed"), status=405)

    def _twilio_not_found(self, path: str) -> web.Response:
        return web.json_response(
            self._twilio_error(404, 20404, f"The requested resource {path} was not found"),
            status=404,
        )

    def _twilio_create(self, record: RecordedRequest) -> web.Response:
        form = record.form or {}
        to = form.get("To")
        sender = form.get("From")
        service = form.get("MessagingServiceSid")
        body = form.get("Body")
        media = form.get("MediaUrl")
        media_urls = media if isinstance(media, list) else [media] if media else []
        problem = None
        if not to:
            problem = (21604, "A 'To' phone number is required.")
        elif not sender and not service:
            problem = (21603, "A 'From' phone number is required.")
        elif not body and not media_urls and not form.get("ContentSid"):
            problem = (21602, "Message body is required.")
        elif body and len(body) > TWILIO_MAX_BODY:
            problem = (21617, "The concatenated message body exceeds the 1600 character limit.")
        elif service and not re.fullmatch(r"MG[0-9a-f]{32}", service):
            problem = (21701, "The Messaging Service Sid is invalid.")
        if problem:
            return web.json_response(self._twilio_error(400, *problem), status=400)
        sid = "SM" + _hex(32)
        now = _rfc2822(time.time())
        uri = f"/2010-04-01/Accounts/{self.twilio_account_sid}/Messages/{sid}"
        resource: Json = {
            "account_sid": self.twilio_account_sid,
            "api_version": TWILIO_API_VERSION,
            "body": body or "",
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": service,
            "num_media": str(len(media_urls)),
            "num_segments": str(sms_segments(body or "")),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # Sending through a Messaging Service without From starts as "accepted".
            "status": "queued" if sender else "accepted",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        }
        self.twilio_messages[sid] = _TwilioMessage(resource)
        return web.json_response(resource, status=201)

    # -- Telegram ----------------------------------------------------------------------------

    async def _telegram(self, request: web.Request, record: RecordedRequest) -> web.Response:
        m = re.fullmatch(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)", record.path)
        if m is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        if m["token"] != self.telegram_token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        args = _decode_args(record.params, TELEGRAM_OBJECT_ARGS)
        method = m["method"].lower()
        handler = getattr(self, f"_tg_{method}", None)
        if handler is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
                status=404,
            )
        outcome = handler(args)
        if isinstance(outcome, str):  # an error description
            return web.json_response(
                {"ok": False, "error_code": 400, "description": outcome}, status=400
            )
        result, description = outcome if isinstance(outcome, tuple) else (outcome, None)
        payload: Json = {"ok": True, "result": result}
        if description:
            payload["description"] = description
        return web.json_response(payload)

    def _tg_chat(self, chat_id: Any) -> Json:
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)
        if isinstance(chat_id, int) and chat_id > 0:
            return {
                "id": chat_id,
                "first_name": "Test",
                "last_name": "Customer",
                "username": "test_customer",
                "type": "private",
            }
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            return {
                "id": -1001000000001,
                "title": chat_id[1:],
                "username": chat_id[1:],
                "type": "channel",
            }
        return {"id": chat_id, "title": "Test Group", "type": "supergroup"}

    def _tg_getme(self, args: Json) -> Json:
        return self.telegram_bot

    def _tg_sendmessage(self, args: Json) -> Json | str:
        if args.get("chat_id") in (None, ""):
            return "Bad Request: chat_id is empty"
        text = args.get("text")
        if not text:
            return "Bad Request: message text is empty"
        if len(text) > TELEGRAM_MAX_TEXT:
            return "Bad Request: message is too long"
        message: Json = {
            "message_id": next(self._telegram_message_ids),
            "from": {k: self.telegram_bot[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": self._tg_chat(args["chat_id"]),
            "date": int(time.time()),
            "text": text,
        }
        markup = args.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        self.telegram_messages[(message["chat"]["id"], message["message_id"])] = message
        return message

    def _tg_editmessagetext(self, args: Json) -> Json | bool | str:
        text = args.get("text")
        if not text:
            return "Bad Request: message text is empty"
        if len(text) > TELEGRAM_MAX_TEXT:
            return "Bad Request: MESSAGE_TOO_LONG"
        if args.get("inline_message_id"):
            return True
        chat = self._tg_chat(args.get("chat_id"))
        with contextlib.suppress(TypeError, ValueError):
            key = (chat["id"], int(args.get("message_id")))
            message = self.telegram_messages.get(key)
            if message is not None:
                if message["text"] == text and args.get("reply_markup") is None:
                    return (
                        "Bad Request: message is not modified: specified new message content "
                        "and reply markup are exactly the same as a current content and reply "
                        "markup of the message"
                    )
                message.update(text=text, edit_date=int(time.time()))
                markup = args.get("reply_markup")
                if isinstance(markup, dict) and "inline_keyboard" in markup:
                    message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
                return message
        return "Bad Request: message to edit not found"

    def _tg_answercallbackquery(self, args: Json) -> bool | str:
        if not args.get("callback_query_id"):
            return (
                "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        return True

    def _tg_sendchataction(self, args: Json) -> bool | str:
        if args.get("chat_id") in (None, ""):
            return "Bad Request: chat_id is empty"
        if not args.get("action"):
            return "Bad Request: action is empty"
        return True

    def _tg_setwebhook(self, args: Json) -> tuple[bool, str] | str:
        url = args.get("url", "")
        if url and not url.startswith("https://"):
            return "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
        self.telegram_webhook = {
            "url": url,
            "secret_token": args.get("secret_token"),
            "allowed_updates": args.get("allowed_updates"),
            "max_connections": int(args.get("max_connections") or 40),
        }
        return True, "Webhook was set" if url else "Webhook is already deleted"

    def _tg_deletewebhook(self, args: Json) -> tuple[bool, str]:
        was = bool(self.telegram_webhook.get("url"))
        self.telegram_webhook = {}
        return True, "Webhook was deleted" if was else "Webhook is already deleted"

    def _tg_getwebhookinfo(self, args: Json) -> Json:
        url = self.telegram_webhook.get("url", "")
        info: Json = {"url": url, "has_custom_certificate": False, "pending_update_count": 0}
        if url:
            info["max_connections"] = self.telegram_webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
            if self.telegram_webhook.get("allowed_updates"):
                info["allowed_updates"] = self.telegram_webhook["allowed_updates"]
        return info

    # -- Meta Graph --------------------------------------------------------------------------

    @staticmethod
    def _graph_error(
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        transient: bool = False,
        error_type: str = "OAuthException",
    ) -> Json:
        error: Json = {"message": message, "type": error_type, "code": code}
        if subcode is not None:
            error["error_subcode"] = subcode
        if transient:
            error["is_transient"] = True
        error["fbtrace_id"] = _fbtrace_id()
        return {"error": error}

    async def _meta(self, request: web.Request, record: RecordedRequest) -> web.Response:
        token = record.query.get("access_token") or (record.form or {}).get("access_token")
        authz = request.headers.get("Authorization", "")
        if authz.lower().startswith("bearer "):
            token = authz[7:].strip()
        if not token:
            return web.json_response(
                self._graph_error(
                    2500,
                    "An active access token must be used to query information about "
                    "the current user.",
                ),
                status=400,
            )
        if token != self.meta_token:
            return web.json_response(
                self._graph_error(190, "Invalid OAuth access token - Cannot parse access token"),
                status=401,
            )
        m = re.fullmatch(r"/v\d+\.\d+/(?P<node>[^/]+)/messages", record.path)
        if m is None or request.method != "POST":
            return web.json_response(
                self._graph_error(
                    100,
                    "Unsupported post request. Object does not exist, cannot be loaded due "
                    "to missing permissions, or does not support this operation.",
                    subcode=33,
                    error_type="GraphMethodException",
                ),
                status=400,
            )
        args = _decode_args(record.params, None)
        args.pop("access_token", None)
        if args.get("messaging_product") == "whatsapp" or (
            m["node"] != "me" and m["node"].isdigit() and "recipient" not in args
        ):
            return self._whatsapp_send(args)
        return self._messenger_send(args)

    def _graph_bad(self, message: str, subcode: int | None = None) -> web.Response:
        return web.json_response(self._graph_error(100, message, subcode=subcode), status=400)

    def _messenger_send(self, args: Json) -> web.Response:
        recipient = args.get("recipient")
        if not isinstance(recipient, dict) or not (
            recipient.get("id") or recipient.get("user_ref") or recipient.get("comment_id")
        ):
            return self._graph_bad("(#100) The parameter recipient is required")
        message = args.get("message")
        action = args.get("sender_action")
        if message is None and action is None:
            return self._graph_bad("(#100) Must send either message or sender action")
        if isinstance(message, dict):
            text = message.get("text")
            if text is not None and len(text) > MESSENGER_MAX_TEXT:
                return self._graph_bad(
                    f"(#100) Length of param message[text] must be less than or equal to "
                    f"{MESSENGER_MAX_TEXT}"
                )
            if text is None and "attachment" not in message:
                return self._graph_bad(
                    "(#100) Message cannot be empty, must provide valid attachment or text"
                )
            quick = message.get("quick_replies")
            if quick is not None and len(quick) > 13:
                return self._graph_bad(
                    "(#100) param message[quick_replies] must have a maximum of 13 elements"
                )
        messaging_type = args.get("messaging_type", "RESPONSE")
        if messaging_type not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            return self._graph_bad(
                "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}"
            )
        recipient_id = recipient.get("id") or "7654321098765432"
        body: Json = {"recipient_id": str(recipient_id)}
        if message is not None:
            raw = secrets.token_bytes(64)
            body["message_id"] = "m_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return web.json_response(body)

    def _whatsapp_send(self, args: Json) -> web.Response:
        if args.get("messaging_product") != "whatsapp":
            return self._graph_bad("(#100) The parameter messaging_product is required.")
        if args.get("status") == "read" and args.get("message_id"):
            return web.json_response({"success": True})
        to = str(args.get("to") or "")
        if not to:
            return self._graph_bad("(#100) The parameter to is required.")
        kind = args.get("type", "text")
        content = args.get(kind)
        if not isinstance(content, dict):
            return self._graph_bad(f"(#100) The parameter {kind} is required.")
        if kind == "text":
            text = content.get("body")
            if not text:
                return self._graph_bad("(#100) The parameter text['body'] is required.")
            if len(text) > WHATSAPP_MAX_TEXT:
                return self._graph_bad(
                    f"(#100) Param text['body'] must be at most {WHATSAPP_MAX_TEXT} characters "
                    "long."
                )
        wamid = "wamid." + base64.b64encode(b"\x15\x18\x0b" + secrets.token_bytes(30)).decode()
        message: Json = {"id": wamid}
        if kind == "template":
            message["message_status"] = "accepted"
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": re.sub(r"\D", "", to)}],
                "messages": [message],
            }
        )

    # -- Slack -------------------------------------------------------------------------------

    def _next_ts(self) -> str:
        us = SLACK_TS_BASE_US + next(self._slack_ts) * 100
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def slack_user(self, user_id: str) -> Json:
        """The user ``users.info`` answers for ``user_id`` (seed ``slack_users`` to override)."""
        if user_id in self.slack_users:
            return self.slack_users[user_id]
        return {
            "id": user_id,
            "team_id": self.slack_team["id"],
            "name": "jane.agent",
            "deleted": False,
            "real_name": "Jane Agent",
            "tz": "America/Los_Angeles",
            "tz_label": "Pacific Standard Time",
            "tz_offset": -28800,
            "is_admin": False,
            "is_bot": False,
            "is_app_user": False,
            "updated": 1700000000,
            "profile": {
                "real_name": "Jane Agent",
                "real_name_normalized": "Jane Agent",
                "display_name": "jane",
                "display_name_normalized": "jane",
                "email": "jane.agent@example.com",
                "image_72": "https://avatars.slack-edge.com/fake/jane_72.png",
                "team": self.slack_team["id"],
            },
        }

    def slack_channel(self, channel_id: str) -> Json:
        if channel_id in self.slack_channels:
            return self.slack_channels[channel_id]
        return {
            "id": channel_id,
            "name": "support-handoff",
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_private": False,
            "is_archived": False,
            "is_general": False,
            "is_member": True,
            "created": 1700000000,
            "creator": "U0TESTADMIN",
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {
                "value": "Customer conversations handed off by onethread",
                "creator": "U0TESTADMIN",
                "last_set": 1700000000,
            },
        }

    def _slack_channel_id(self, channel: str) -> str:
        if channel.startswith("#"):
            for cid, info in self.slack_channels.items():
                if info.get("name") == channel[1:]:
                    return cid
            return "C" + secrets.token_hex(5).upper()[:10]
        return channel

    async def _slack(self, request: web.Request, record: RecordedRequest) -> web.Response:
        if record.path.startswith("/upload/"):
            return self._slack_upload(record)
        args = _decode_args(record.params, SLACK_OBJECT_ARGS)
        token = args.pop("token", None)
        authz = request.headers.get("Authorization", "")
        if authz.lower().startswith("bearer "):
            token = authz[7:].strip()
        if not token:
            return web.json_response({"ok": False, "error": "not_authed"})
        if record.api == "apps.connections.open":
            # Socket Mode takes the app-level token, not the bot token.
            if token != self.slack_app_token:
                return web.json_response({"ok": False, "error": "invalid_auth"})
            ws_url = f"ws://{self.host}:{self.port}/slack-socket/link?ticket={secrets.token_hex(4)}"
            return web.json_response({"ok": True, "url": ws_url})
        if token != self.slack_token:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        method = record.api
        handler = getattr(self, "_sl_" + method.replace(".", "_"), None)
        if handler is None or not record.path.startswith("/api/"):
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        outcome = handler(args)
        if isinstance(outcome, str):
            return web.json_response({"ok": False, "error": outcome})
        return web.json_response({"ok": True, **outcome})

    def _sl_auth_test(self, args: Json) -> Json:
        return {
            "url": "https://onethread-test.slack.com/",
            "team": self.slack_team["name"],
            "user": "onethread",
            "team_id": self.slack_team["id"],
            "user_id": self.slack_bot_user_id,
            "bot_id": self.slack_bot_id,
            "is_enterprise_install": False,
        }

    def _slack_bot_message(self, args: Json, ts: str) -> Json:
        message: Json = {
            "user": self.slack_bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.slack_bot_id,
            "app_id": self.slack_app_id,
            "text": args.get("text") or "",
            "team": self.slack_team["id"],
            "bot_profile": {
                "id": self.slack_bot_id,
                "app_id": self.slack_app_id,
                "name": "onethread",
                "deleted": False,
                "team_id": self.slack_team["id"],
            },
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if args.get(key):
                message[key] = args[key]
        if args.get("thread_ts"):
            message["parent_user_id"] = self.slack_bot_user_id
        return message

    def _sl_chat_postMessage(self, args: Json) -> Json | str:
        channel = args.get("channel")
        if not channel:
            return "channel_not_found"
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return "no_text"
        if len(args.get("text") or "") > 40000:
            return "msg_too_long"
        channel = self._slack_channel_id(channel)
        ts = self._next_ts()
        message = self._slack_bot_message(args, ts)
        self.slack_messages[(channel, ts)] = message
        return {"channel": channel, "ts": ts, "message": message}

    def _sl_chat_update(self, args: Json) -> Json | str:
        channel, ts = args.get("channel"), args.get("ts")
        if not channel:
            return "channel_not_found"
        message = self.slack_messages.get((channel, ts))
        if message is None:
            return "message_not_found"
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return "no_text"
        message["text"] = args.get("text") or ""
        message["edited"] = {"user": self.slack_bot_user_id, "ts": self._next_ts()}
        for key in ("blocks", "attachments"):
            if args.get(key):
                message[key] = args[key]
        return {"channel": channel, "ts": ts, "text": message["text"], "message": message}

    def _sl_chat_postEphemeral(self, args: Json) -> Json | str:
        if not args.get("channel"):
            return "channel_not_found"
        if not args.get("user"):
            return "user_not_in_channel"
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return "no_text"
        return {"message_ts": self._next_ts()}

    def _sl_conversations_info(self, args: Json) -> Json | str:
        channel = args.get("channel")
        if not channel:
            return "channel_not_found"
        return {"channel": self.slack_channel(channel)}

    def _sl_users_info(self, args: Json) -> Json | str:
        user = args.get("user")
        if not user:
            return "user_not_found"
        return {"user": self.slack_user(user)}

    def _sl_reactions_add(self, args: Json) -> Json | str:
        channel, ts, name = args.get("channel"), args.get("timestamp"), args.get("name")
        if not name:
            return "invalid_name"
        if not channel or not ts:
            return "message_not_found"
        key = (channel, ts, name)
        if key in self.slack_reactions:
            return "already_reacted"
        self.slack_reactions.add(key)
        return {}

    def _sl_files_getUploadURLExternal(self, args: Json) -> Json | str:
        filename, length = args.get("filename"), args.get("length")
        if not filename or length in (None, ""):
            return "invalid_arguments"
        file_id = "F" + secrets.token_hex(5).upper()
        self.slack_files[file_id] = {
            "id": file_id,
            "name": filename,
            "length": int(length),
            "data": None,
            "alt_txt": args.get("alt_txt"),
        }
        return {
            "upload_url": f"{self.base_url}/slack/upload/v1/{file_id}-{secrets.token_hex(8)}",
            "file_id": file_id,
        }

    def _slack_upload(self, record: RecordedRequest) -> web.Response:
        m = re.fullmatch(r"/upload/v1/(?P<file>F[0-9A-F]+)-[0-9a-f]+", record.path)
        file = self.slack_files.get(m["file"]) if m else None
        if file is None or record.method != "POST":
            return web.Response(status=404, text="Not Found")
        data = record.body
        if record.form:  # multipart: the first file part
            for value in record.form.values():
                if isinstance(value, dict) and "data" in value:
                    data = value["data"]
                    break
        file["data"] = data
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    def _sl_files_completeUploadExternal(self, args: Json) -> Json | str:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return "invalid_arguments"
        out = []
        for entry in files:
            file = self.slack_files.get(entry.get("id", ""))
            if file is None or file["data"] is None:
                return "file_not_found"
            channel = args.get("channel_id") or args.get("channels")
            out.append(
                {
                    "id": file["id"],
                    "created": int(time.time()),
                    "timestamp": int(time.time()),
                    "name": file["name"],
                    "title": entry.get("title") or file["name"],
                    "mimetype": "application/octet-stream",
                    "filetype": file["name"].rsplit(".", 1)[-1] if "." in file["name"] else "",
                    "user": self.slack_bot_user_id,
                    "user_team": self.slack_team["id"],
                    "size": len(file["data"]),
                    "is_public": bool(channel),
                    "url_private": f"https://files.slack.com/files-pri/{self.slack_team['id']}-"
                    f"{file['id']}/{file['name']}",
                    "channels": [channel] if channel else [],
                    "shares": {},
                }
            )
        return {"files": out}
