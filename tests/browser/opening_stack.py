"""The real platform for the live opening test (tests/browser/test_opening_live.py): daphne
(HTTP + WebSocket), the background worker (`manage.py db_worker`) and the chronograph
(`manage.py chronograph --interval 1`) against a private data folder, each its own process.

pytest-django's live_server is WSGI (no WebSocket), so the stack is started the way
scripts/run-platform starts it. Everything lives in a temporary folder: PLATFORM_DATA_DIR (a
private SQLite database, migrated here, the bids storage), the bidders' key files and sealed files,
the processes' logs. DATABASE_URL and REDIS_URL are never passed on: the test never touches the
user's database, and the channel layer stays in memory. (A shared Redis would carry the room's
group "room.<lot>" between runs and other platforms using the same lot numbers: the channel layer
has no per-run prefix. With the in-memory layer the worker's events reach the room through the
consumer's look in the database every 2 s, settings.OPENING_ROOM_POLL_SECONDS.)
PLATFORM_SANDBOX=1: the tender runs its statutory periods 100 000 times faster, so its deadline is
20 s after it is set up (L24's 20 days / 100 000 = 17.28 s).

The world is made in a child process with django.setup(), through the real services:
`python -m tests.browser.opening_stack setup <work>` prints one JSON line (see `setup`).

Also here: `RoomSocket`, a minimal WebSocket client (RFC 6455, standard library only: the
`websockets` package is not installed) speaking the room's protocol for the bidder that is not in a
browser, and `HttpSession`, a cookie-keeping client that signs in through the login page.
"""

from __future__ import annotations

import base64
import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable
PASSPHRASE = "开标室 live test passphrase"
ACCELERATOR = 100_000
# Set before publication; the deadline must be at least 20 days / ACCELERATOR (17.28 s) after it.
DEADLINE_SECONDS = 20
OFFER_SECONDS = 19
PRICES_FEN = [12_345_678_90, 12_400_000_00, 13_000_050_07]  # 一千二百三十四万…, with 角/分 and 零s


# ------------------------------------------------------------------------------ child: the world
def setup(work: Path) -> dict:
    """A published accelerated tender hosted by an agency, one lot, three verified bidders, each
    with a key file (minimum KDF iterations) written to `work`, its public keys registered, a bid
    package packed, sealed and submitted through the upload services; the third bidder's sealed
    file and an API token for the bid tool. Returns what the test needs."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from datetime import timedelta

    from accounts.services import api_token_create
    from bidding import keyfile
    from bidding import services as bidding_services
    from bidding.sealing import header as sealed_header
    from tendering.models import TenderState
    from tests import factories
    from tests.factories import PASSWORD, actor, person, register_bidder
    from tests.opening.world import Bidder, make_package, seal_package, submit

    # Everything slow (password hashing, keys) before the tender is published: its clock runs fast.
    host = person("agency")
    bidder_users = [person("bidder") for _ in PRICES_FEN]
    key_files = []
    for n, user in enumerate(bidder_users):
        data = keyfile.generate(PASSPHRASE, label=f"live test bidder {n + 1}", iterations=keyfile.MIN_ITERATIONS)
        path = work / f"bidder-{n + 1}-keys.json"
        path.write_bytes(data)
        keys = keyfile.unlock(data, PASSPHRASE)
        bidding_services.bidder_key_register(by=actor(user), decryption_jwk=keyfile.public_jwk(keys.public.decryption),
                                             signing_jwk=keyfile.public_jwk(keys.public.signing))
        key_files.append((path, keys))
    factories.centre_reviewer()
    project = factories.mandated_project(host)

    tender = factories.make_tender(host, state=TenderState.PUBLISHED, project=project, accelerator=ACCELERATOR,
                                   deadline=timedelta(seconds=DEADLINE_SECONDS), offer=timedelta(seconds=OFFER_SECONDS))
    lot = tender.lots.get()
    bidders = []
    for n, (user, (key_path, keys), price) in enumerate(zip(bidder_users, key_files, PRICES_FEN, strict=True)):
        register_bidder(tender, user)
        bidder = Bidder(user, keys.decryption, keys.signing, price)
        bidder.package = make_package(tender_id=tender.pk, lot_id=lot.pk, credit_code=user.organisation.credit_code,
                                      price_fen=price)
        binding = sealed_header.Binding(tender=str(tender.pk), lot=str(lot.pk), bidder=str(user.organisation.pk))
        bidder.sealed = seal_package(bidder.package, bidder=bidder, binding=binding)
        bid = submit(bidder, lot, bidder.sealed)
        sealed_path = work / f"bidder-{n + 1}.sealed"
        sealed_path.write_bytes(bidder.sealed)
        bidders.append({"username": user.username, "name": user.organisation.name, "organisation": user.organisation.pk,
                        "keyfile": str(key_path), "sealed": str(sealed_path), "bid": bid.pk, "price_fen": price})
    _, token = api_token_create(by=actor(bidder_users[-1]), user=bidder_users[-1], name="live opening test")
    bidders[-1]["token"] = token
    return {"tender": tender.pk, "code": tender.code, "lot": lot.pk, "deadline": tender.bid_deadline.timestamp(),
            "host": {"username": host.username, "name": host.organisation.name}, "password": PASSWORD,
            "passphrase": PASSPHRASE, "bidders": bidders}


# ------------------------------------------------------------------------------ parent: processes
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def platform_env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "ETENDER_TOKEN", "ETENDER_SERVER") and not k.startswith("PYTEST")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PLATFORM_DATA_DIR": str(data_dir),
        "PLATFORM_SANDBOX": "1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "1",  # daphne serves the static files (config/asgi.py)
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def run(command: list[str], env: dict, what: str, timeout: float = 120) -> str:
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


class Stack:
    """The platform's three processes. `stop()` ends each one it started (by its pid), always."""

    def __init__(self, work: Path):
        self.work = work
        self.data = work / "data"
        self.data.mkdir()
        self.env = platform_env(self.data)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, object] = {}

    def manage(self, *args: str, what: str | None = None, timeout: float = 120) -> str:
        return run([PYTHON, "manage.py", *args], self.env, what or f"manage.py {' '.join(args)}", timeout=timeout)

    def migrate(self) -> None:
        self.manage("migrate", "--noinput", "-v", "0")

    def make_world(self) -> dict:
        out = run([PYTHON, "-m", "tests.browser.opening_stack", "setup", str(self.work)], self.env, "world setup")
        return json.loads(out.strip().splitlines()[-1])

    def start(self, name: str, command: list[str]) -> None:
        log = open(self.work / f"{name}.log", "wb")
        self.logs[name] = log
        self.processes[name] = subprocess.Popen(command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL)

    def start_all(self) -> None:
        self.start("daphne", [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                              "config.asgi:application"])
        self.start("worker", [PYTHON, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
                              "--interval", "0.2"])
        self.start("chronograph", [PYTHON, "manage.py", "chronograph", "--interval", "1"])

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")

    def log_tail(self, name: str, chars: int = 3000) -> str:
        try:
            return (self.work / f"{name}.log").read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_http(self, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.check_alive()
            try:
                with urllib.request.urlopen(self.url + "/accounts/login/", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"daphne did not answer within {timeout} s:\n{self.log_tail('daphne')}")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self.logs.values():
            log.close()
        self.processes.clear()

    def query(self, code: str) -> dict:
        """Run `code` in `manage.py shell` (a child with its own Django); it prints one JSON line."""
        out = self.manage("shell", "-c", code, what="manage.py shell")
        return json.loads(out.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ HTTP and WebSocket
class HttpSession:
    """Cookies and CSRF: signs in through the login page like a browser."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with self.opener.open(self.base + path, timeout=10) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def login(self, username: str, password: str) -> None:
        status, body = self.get("/accounts/login/")
        assert status == 200, status
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        form = {"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/"}
        request = urllib.request.Request(self.base + "/accounts/login/", data=urllib.parse.urlencode(form).encode(),
                                         headers={"Referer": self.base + "/accounts/login/"})
        with self.opener.open(request, timeout=10) as answer:
            answer.read()
        if not self.cookie("sessionid"):
            raise AssertionError(f"{username} could not sign in")


class RoomSocket:
    """A minimal WebSocket client for /ws/opening/<lot>/: text frames only, masked as a client must,
    the session cookie and the Origin of the site."""

    def __init__(self, base: str, lot: int, session_cookie: str, timeout: float = 15):
        host, port = urllib.parse.urlsplit(base).netloc.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET /ws/opening/{lot}/ HTTP/1.1\r\nHost: {host}:{port}\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {base}\r\n"
                   f"Cookie: sessionid={session_cookie}\r\n\r\n")
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.decode(errors="replace"))
        self.last_seq = 0
        self.messages: list[dict] = []  # everything received, in order

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send(self, message: dict) -> None:
        self._send_frame(0x1, json.dumps(message).encode())

    def receive(self) -> dict:
        """The next JSON message (answers pings, fails on close)."""
        message, fragments = None, b""
        while message is None:
            first, second = self._read(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if second & 0x80 else None
            payload = self._read(length)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise ConnectionError(f"the room closed the connection ({code})")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode in (0x1, 0x0):
                fragments += payload
                if first & 0x80:
                    message = json.loads(fragments.decode())
        self.messages.append(message)
        if message.get("type") in ("snapshot", "event"):
            self.last_seq = max(self.last_seq, message["seq"])
        return message

    def hello(self) -> dict:
        self.send({"type": "hello", "after": self.last_seq})
        while True:
            message = self.receive()
            if message["type"] == "snapshot":
                return message

    def command(self, action: str, args: dict | None = None) -> dict:
        command_id = secrets.token_hex(12)
        self.send({"type": "command", "id": command_id, "action": action, "args": args or {}})
        while True:
            message = self.receive()
            if message.get("type") == "result" and message.get("id") == command_id:
                return message

    def close(self) -> None:
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "setup":
        raise SystemExit("usage: python -m tests.browser.opening_stack setup <work folder>")
    print(json.dumps(setup(Path(sys.argv[2])), ensure_ascii=False))
