"""The bid tool's HTTP client (bidding/tool/client.py) against a tiny scripted HTTP/1.1 server:
one kept-alive connection for many requests, retries of repeatable requests only, a connection
the server closed while idle reopened at once, and every shape of error answer turned into a
clear refusal. No Django, no database."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bidding.tool import client as tool_client
from bidding.tool.client import ApiError, Client, NetworkError
from bidding.tool.messages import ToolError, UsageError


class Script:
    """What the server answers, request by request: (status, body, headers); and what it saw."""

    def __init__(self):
        self.answers: list[tuple[int, bytes, dict]] = []
        self.seen: list[tuple[str, str, tuple, dict, bytes]] = []  # method, path, client address, headers, body
        self.close_after: set[int] = set()  # request numbers after which the server drops the connection silently


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(tool_client, "RETRY_DELAYS", (0.0, 0.0, 0.0))
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            script.seen.append((self.command, self.path, self.client_address, dict(self.headers), body))
            status, payload, headers = script.answers.pop(0) if script.answers else (200, b"{}", {})
            self.send_response(status)
            headers = {"Content-Type": "application/json", **headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            if len(script.seen) in script.close_after:
                self.close_connection = True  # without saying so: the client finds out on its next request

        do_GET = do_PUT = do_POST = do_DELETE = _answer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    script.url = f"http://127.0.0.1:{httpd.server_address[1]}/etender"
    yield script
    httpd.shutdown()
    httpd.server_close()


def answer(status: int = 200, document=None, **headers) -> tuple[int, bytes, dict]:
    return status, json.dumps(document if document is not None else {}).encode(), headers


def test_one_kept_alive_connection_for_all_requests_with_the_token_and_the_path_prefix(server):
    client = Client(server.url, "secret-token")
    for n in range(5):
        client.request("PUT", "/bid-uploads/x/", body=b"x" * 100_000, content_type="application/octet-stream",
                       headers={"Content-Range": f"bytes {n}-{n}/5"})
    assert len({address for _, _, address, _, _ in server.seen}) == 1
    method, path, _, headers, body = server.seen[0]
    assert (method, path) == ("PUT", "/etender/api/v1/bid-uploads/x/")
    assert headers["Authorization"] == "Bearer secret-token" and headers["Content-Range"] == "bytes 0-0/5"
    assert len(body) == 100_000


def test_a_connection_closed_while_idle_is_reopened_at_once(server):
    server.close_after = {1}
    client = Client(server.url, "t")
    client.get("/a/")
    client.get("/b/")
    assert [path for _, path, *_ in server.seen] == ["/etender/api/v1/a/", "/etender/api/v1/b/"]
    assert server.seen[0][2] != server.seen[1][2]  # a new connection


def test_gets_and_puts_are_retried_after_a_503_but_a_plain_post_is_not(server):
    server.answers = [answer(503), answer(502), answer(200, {"ok": True})]
    assert Client(server.url, "t").get("/x/") == {"ok": True}
    assert len(server.seen) == 3

    server.answers = [answer(503, {"detail": "维护中"})]
    with pytest.raises(ApiError) as refused:
        Client(server.url, "t").post("/bid-uploads/", {"lot": 1})
    assert refused.value.status == 503 and len(server.seen) == 4


def test_progress_counts_what_was_sent(server):
    sent = []
    Client(server.url, "t").request("PUT", "/x/", body=b"y" * 200_000, on_sent=sent.append)
    assert sum(sent) == 200_000 and max(sent) <= 64 * 1024


@pytest.mark.parametrize(
    "status, body, expected",
    [
        (400, json.dumps({"detail": "投标截止时间已过。", "code": "deadline_passed"}), ["投标截止时间已过。", "deadline_passed: the bid deadline has passed"]),
        (400, json.dumps({"lot": ["请填写合法的整数值。"]}), ["lot: 请填写合法的整数值。", "invalid"]),
        (401, json.dumps({"detail": "令牌无效、已过期或已吊销。"}), ["令牌无效", "not_authenticated", "POST /api/v1/auth/token/"]),
        (404, json.dumps({"detail": "未找到。"}), ["未找到", "not_found"]),
        (500, "<html>Server Error</html>", ["HTTP 500", "http_500"]),
    ],
)
def test_error_answers_become_clear_refusals(server, status, body, expected):
    server.answers = [(status, body.encode(), {})] * 4
    with pytest.raises(ApiError) as refused:
        Client(server.url, "t").get("/x/")
    for text in expected:
        assert text in str(refused.value)


def test_a_redirect_is_refused_with_a_hint(server):
    server.answers = [answer(301, Location="https://elsewhere.example/")]
    with pytest.raises(ToolError, match="https://elsewhere.example/"):
        Client(server.url, "t").get("/x/")


def test_paginated_lists_are_followed(server):
    following = server.url.replace("/etender", "") + "/etender/api/v1/items/?offset=2"
    server.answers = [answer(200, {"count": 3, "next": following, "results": [1, 2]}), answer(200, {"count": 3, "next": None, "results": [3]})]
    assert Client(server.url, "t").get_all("/items/") == [1, 2, 3]
    assert server.seen[1][1] == "/etender/api/v1/items/?offset=2"


def test_an_unreachable_server_and_a_bad_address(monkeypatch):
    monkeypatch.setattr(tool_client, "RETRY_DELAYS", (0.0,))
    with pytest.raises(NetworkError, match="connection refused"):
        Client("http://127.0.0.1:9", "t").get("/x/")
    with pytest.raises(UsageError):
        tool_client.server_from("127.0.0.1:8000")
    monkeypatch.setenv("ETENDER_SERVER", "https://etender.example.cn/")
    assert tool_client.server_from(None) == "https://etender.example.cn"
