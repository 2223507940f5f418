"""Local HTTP servers that speak the Telegram Bot API and the WhatsApp Graph API.

Each runs an aiohttp app in its own thread and event loop on a free port, records every call
(method, parameters, headers) and answers like the real API, so the real connector code (and a
real Rasa server in a subprocess) can be pointed at it with ``*_API_BASE_URL``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from aiohttp import web

from tests.e2e.conftest import free_port


class LocalServer:
    """An aiohttp application served from a background thread."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._runner: Optional[web.AppRunner] = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> "LocalServer":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


class Recorder:
    """Calls received by a fake API, safe to read from the test thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: List[Dict[str, Any]] = []

    def add(self, call: Dict[str, Any]) -> None:
        with self._lock:
            self._calls.append(call)

    def calls(self, method: Optional[str] = None, **match: Any) -> List[Dict[str, Any]]:
        with self._lock:
            found = [c for c in self._calls if method is None or c["method"] == method]
        return [c for c in found if all(c["params"].get(k) == v for k, v in match.items())]

    def wait_for(
        self, method: str, count: int = 1, timeout: float = 20.0, **match: Any
    ) -> List[Dict[str, Any]]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = self.calls(method, **match)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(
            f"{count} {method} call(s) {match} expected, got {self.calls(method, **match)}"
        )

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


def _decode(value: str) -> Any:
    """Bot API form values are JSON-encoded unless they are plain strings."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


class FakeBotApi(Recorder):
    """The Telegram Bot API: ``/bot{token}/{method}``.

    Answers getMe, sendMessage, answerCallbackQuery, setWebhook, deleteWebhook,
    setMyCommands and getUpdates (from :meth:`queue_update`); a wrong token gets 401.
    ``fail[method] = (status, description)`` makes the next calls of a method fail.
    """

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.updates: List[Dict[str, Any]] = []
        self.fail: Dict[str, Tuple[int, str]] = {}
        self._message_id = 1000
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self.server = LocalServer(app)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def start(self) -> "FakeBotApi":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def queue_update(self, update: Dict[str, Any]) -> None:
        self.updates.append(update)

    async def _params(self, request: web.Request) -> Dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            return {key: _decode(str(value)) for key, value in form.items()}
        return {key: _decode(value) for key, value in request.query.items()}

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        self.add({"method": method, "params": params, "token": request.match_info["token"]})
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        if method in self.fail:
            status, description = self.fail[method]
            return web.json_response(
                {"ok": False, "error_code": status, "description": description}, status=status
            )
        return web.json_response({"ok": True, "result": self._result(method, params)})

    def _result(self, method: str, params: Dict[str, Any]) -> Any:
        now = int(time.time())
        if method == "getMe":
            return {"id": 4242, "is_bot": True, "first_name": "MDM", "username": "mdm_test_bot"}
        if method == "sendMessage":
            self._message_id += 1
            return {
                "message_id": self._message_id,
                "date": now,
                "chat": {"id": params.get("chat_id"), "type": "private"},
                "text": params.get("text", ""),
            }
        if method == "getUpdates":
            offset = params.get("offset")
            if isinstance(offset, int):
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            return list(self.updates)
        return True  # answerCallbackQuery, setWebhook, deleteWebhook, setMyCommands


class FakeGraphApi(Recorder):
    """The WhatsApp Cloud API: ``POST {base}/v19.0/{phone_number_id}/messages``.

    Checks the bearer token (401 otherwise) and answers with a new ``wamid``.
    ``fail_with = (status, error)`` makes every next call fail.
    """

    VERSION = "v19.0"

    def __init__(self, access_token: str) -> None:
        super().__init__()
        self.access_token = access_token
        self.fail_with: Optional[Tuple[int, Dict[str, Any]]] = None
        self._count = 0
        app = web.Application()
        app.router.add_post(f"/{self.VERSION}/{{phone_number_id}}/messages", self._messages)
        self.server = LocalServer(app)

    @property
    def base_url(self) -> str:
        return f"{self.server.base_url}/{self.VERSION}"

    def start(self) -> "FakeGraphApi":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    async def _messages(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        self.add(
            {
                "method": "messages",
                "phone_number_id": request.match_info["phone_number_id"],
                "authorization": request.headers.get("Authorization"),
                "params": body if isinstance(body, dict) else {},
            }
        )
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            error = {
                "message": "Invalid OAuth access token.",
                "type": "OAuthException",
                "code": 190,
            }
            return web.json_response({"error": error}, status=401)
        if self.fail_with is not None:
            status, error = self.fail_with
            return web.json_response({"error": error}, status=status)
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            error = {"message": "Invalid parameter", "type": "OAuthException", "code": 100}
            return web.json_response({"error": error}, status=400)
        self._count += 1
        to = body.get("to")
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": f"wamid.out.{self._count}"}],
            }
        )


def by_chat(calls: List[Dict[str, Any]], chat_id: Any) -> List[Dict[str, Any]]:
    """The sendMessage calls to one chat."""
    return [c for c in calls if str(c["params"].get("chat_id")) == str(chat_id)]


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
