"""The platform's API as the bid tool speaks it: HTTP(S) with the standard library only.

One `Client` keeps one connection open (http.client, HTTP/1.1 keep-alive) for all its requests,
so the chunks of an upload do not each pay for a new TCP and TLS handshake. Errors become
ToolErrors (exit code 1): `ApiError` for the platform's answers `{"detail", "code"}`, and
`NetworkError` when the platform cannot be reached or the connection drops.

The API: docs/bid-upload-api.md (uploads, bids, receipts) and /api/v1/docs/ (everything)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass

from bidding.tool.messages import ToolError, UsageError, text

DEFAULT_SERVER = "http://127.0.0.1:8000"
SERVER_ENV, TOKEN_ENV = "ETENDER_SERVER", "ETENDER_TOKEN"
API = "/api/v1"
TIMEOUT = 60.0  # seconds without a byte moving before a request counts as failed
# Pauses before each new attempt of a request that may be repeated; tests shorten them.
RETRY_DELAYS = (1.0, 3.0, 10.0)
USER_AGENT = "etender-bid-tool/1"
# Failures of the network, not answers of the platform: the request may be tried again.
CONNECTION_ERRORS = (OSError, http.client.HTTPException)
# Answers of a proxy or an overloaded platform that a repeated request may get past.
RETRY_STATUSES = (502, 503, 504)
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
_PIECE = 64 * 1024  # bytes written at a time, so a progress bar moves within a chunk

# What each error code of the API means, in English: the platform's own message (detail) comes in
# the language it speaks (Chinese unless changed); this is the part in brackets.
CODES = {
    "not_sealed": "not a sealed bid",
    "bad_header": "the sealed file's header is malformed",
    "binding_mismatch": "the sealed file is bound to another tender, lot or bidder",
    "key_not_usable": "not sealed to, or not signed by, your organisation's active registered keys",
    "bad_signature": "the header's signature does not verify under your registered signing key",
    "size_mismatch": "the file's size does not match its header",
    "too_large": "the file is larger than the platform accepts",
    "replay": "this sealed file was already submitted; seal again to submit a new version",
    "deadline_passed": "the bid deadline has passed",
    "lot_not_open": "the lot does not take bids now",
    "not_registered": "your organisation has not obtained the tender documents",
    "bad_range": "malformed chunk range",
    "out_of_range": "the chunk lies outside the file",
    "chunk_conflict": "the chunk differs from bytes already received",
    "upload_closed": "the upload was already finalised, refused or abandoned",
    "incomplete": "bytes of the file are still missing",
    "tampered": "the file was altered",
    "truncated": "the file is incomplete",
    "not_in_force": "the bid is not the one in force (replaced or withdrawn)",
    "opening_not_started": "the opening has not started: release the key only once the opening room accepts releases",
    "key_registered": "this key was registered before; generate a new key file to rotate keys",
    "same_key": "the decryption and signing keys must differ",
    "private_key": "that is a private key: never upload it",
    "invalid_jwk": "the public key is not valid",
    "not_authenticated": "the token is missing, wrong, expired or revoked",
    "authentication_failed": "the token is wrong, expired or revoked",
    "permission_denied": "not allowed for this user or organisation",
    "not_found": "no such object, or not one of your organisation's",
    "throttled": "too many requests; wait and try again",
}
_DEFAULT_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found", 429: "throttled"}


class ApiError(ToolError):
    """The platform refused a request: HTTP status, stable code and its message."""

    def __init__(self, status: int, code: str, detail: str, *, hint: tuple[str, str] = ("", "")):
        self.status, self.code, self.detail = status, code, detail
        english = CODES.get(code)
        zh = detail or f"平台拒绝了请求（HTTP {status}）"
        hint_zh, hint_en = hint
        if status == 401:
            hint_zh = "请在平台的“账户”页面创建 API 令牌，或用 POST /api/v1/auth/token/ 获取，再设置环境变量"
            hint_en = "create an API token on the platform's account page or with POST /api/v1/auth/token/ and put it in the environment"
        en = f"{code}: {english}" if english else code
        if hint_zh:
            zh = zh + ("" if zh.endswith(("。", "！", "？", "；")) else "。") + hint_zh
        super().__init__(zh, f"{en}; {hint_en}" if hint_en else en)

    def with_hint(self, zh: str, en: str) -> ApiError:
        return ApiError(self.status, self.code, self.detail, hint=(zh, en))


class NetworkError(ToolError):
    """The platform could not be reached, or the connection broke."""


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ToolError("平台的应答不是 JSON", f"the platform answered something that is not JSON (HTTP {self.status})") from None


def server_from(option: str | None) -> str:
    server = option or os.environ.get(SERVER_ENV) or DEFAULT_SERVER
    parts = urllib.parse.urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"平台地址无效：{server}，应形如 https://etender.example.cn",
            f"not a platform address: {server!r}; expected e.g. https://etender.example.cn",
        )
    return server.rstrip("/")


def token_from(variable: str | None) -> str:
    variable = variable or TOKEN_ENV
    token = os.environ.get(variable, "").strip()
    if not token:
        raise ToolError(
            f"未提供 API 令牌：环境变量 {variable} 未设置。请在平台的“账户”页面创建令牌（或 POST /api/v1/auth/token/），"
            f"再设置 {variable}；本工具不会询问密码",
            f"no API token: the environment variable {variable} is not set. Create a token on the platform's account page "
            f"(or POST /api/v1/auth/token/) and set {variable}; this tool never asks for your password",
        )
    return token


class Client:
    def __init__(self, server: str, token: str, *, timeout: float = TIMEOUT):
        self.server = server
        parts = urllib.parse.urlsplit(server)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    # -------------------------------------------------------------------------- requests

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs).json()

    def post(self, path: str, payload: dict | None = None, *, retry: bool = False, **kwargs):
        """POST JSON. `retry=True` only where the API makes a repeat harmless (finalise, release-key)."""
        body = json.dumps(payload if payload is not None else {}, ensure_ascii=False).encode("utf-8")
        return self.request("POST", path, body=body, content_type="application/json", retry=retry, **kwargs).json()

    def get_all(self, path: str) -> list:
        """A list endpoint, following the pages of a paginated answer."""
        items, answer = [], self.get(path)
        while isinstance(answer, dict) and "results" in answer:
            items += answer["results"]
            following = answer.get("next")
            if not following:
                return items
            parts = urllib.parse.urlsplit(following)
            answer = self.get(parts.path + (f"?{parts.query}" if parts.query else ""), absolute=True)
        return items + list(answer)

    def request(
        self, method: str, path: str, *, body: bytes = b"", content_type: str | None = None, headers: dict | None = None,
        retry: bool | None = None, absolute: bool = False, on_sent=None, accept: str = "application/json",
        timeout: float | None = None,
    ) -> Response:
        """One request; `path` is below /api/v1 unless `absolute`. Requests that may be repeated
        (GET, PUT, and POSTs the caller marks `retry=True`) are tried again after a connection
        failure or a 502/503/504, RETRY_DELAYS apart. `on_sent(n)` is told as body bytes leave."""
        target = path if absolute else self._prefix + API + path
        retry = method in ("GET", "PUT", "DELETE") if retry is None else retry
        headers = {
            "Authorization": f"Bearer {self._token}", "Accept": accept, "Accept-Language": "zh-hans",
            "User-Agent": USER_AGENT, **(headers or {}),
        }
        if content_type:
            headers["Content-Type"] = content_type
        if not retry:
            # Not to be sent twice: on a fresh connection, never one the platform may have closed meanwhile.
            self.close()
        delays = list(RETRY_DELAYS) if retry else []
        stale_retry_left = True
        while True:
            reused = self._connection is not None
            try:
                answer = self._once(method, target, body, headers, on_sent, timeout or self._timeout)
            except CONNECTION_ERRORS as error:
                self.close()
                if reused and stale_retry_left and isinstance(error, _STALE):
                    # The platform closed the kept-alive connection while we were idle: once more, at once.
                    stale_retry_left = False
                    continue
                if delays:
                    time.sleep(delays.pop(0))
                    continue
                raise self.network_error(error) from None
            if answer.status in RETRY_STATUSES and delays:
                time.sleep(delays.pop(0))
                continue
            if answer.status >= 400:
                raise api_error(answer)
            if answer.status >= 300:
                raise ToolError(
                    f"平台把请求转到了别处（HTTP {answer.status}）：请检查 --server 地址，例如 http 与 https",
                    f"the platform redirected the request (HTTP {answer.status} to {answer.headers.get('Location')}): "
                    "check --server, e.g. http vs https",
                )
            return answer

    def _once(self, method, target, body, headers, on_sent, timeout) -> Response:
        sent = 0
        try:
            connection = self._connect()
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
            connection.putrequest(method, target, skip_accept_encoding=True)
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders()
            view = memoryview(body)
            for start in range(0, len(body), _PIECE):
                piece = view[start:start + _PIECE]
                connection.send(piece)
                sent += len(piece)
                if on_sent is not None:
                    on_sent(len(piece))
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            if on_sent is not None and sent:
                on_sent(-sent)  # a progress bar counts only what arrived
            raise
        if response.will_close:
            self.close()
        return Response(response.status, response.headers, data)

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            if self._https:
                self._connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self._timeout, context=ssl.create_default_context()
                )
            else:
                self._connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def network_error(self, error: BaseException) -> NetworkError:
        return NetworkError(
            f"无法连接平台 {self.server}，或连接中断：{describe_network(error)}",
            f"cannot reach the platform at {self.server}, or the connection broke: {describe_network(error)}",
        )


def describe_network(error: BaseException) -> str:
    if isinstance(error, socket.gaierror):
        return f"the host name does not resolve ({error.strerror or error})"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (is the address and port right, is the platform running?)"
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "no answer in time"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed ({error.reason or error})"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def api_error(answer: Response) -> ApiError:
    detail, code = "", _DEFAULT_CODES.get(answer.status, f"http_{answer.status}")
    try:
        document = json.loads(answer.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        document = None
    if isinstance(document, dict) and isinstance(document.get("detail"), str):
        detail = document["detail"]
        if isinstance(document.get("code"), str):
            code = document["code"]
    elif isinstance(document, dict):  # a serializer's field errors: {"field": ["message", ...]}
        code = "invalid"
        detail = "；".join(f"{field}: {' '.join(map(str, messages)) if isinstance(messages, list) else messages}" for field, messages in document.items())
    elif isinstance(document, list):
        code, detail = "invalid", "；".join(map(str, document))
    return ApiError(answer.status, code, detail)
