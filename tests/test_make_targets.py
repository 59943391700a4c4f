"""scripts/run-platform (what `make run` ends with): it serves the platform with its worker and
chronograph, and Ctrl-C stops all three."""

import http.cookiejar
import os
import re
import sqlite3
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> set[int]:
    found, frontier = set(), [pid]
    while frontier:
        parent = frontier.pop()
        result = subprocess.run(["ps", "-o", "pid=", "--ppid", str(parent)], capture_output=True, text=True)
        for line in result.stdout.split():
            found.add(int(line))
            frontier.append(int(line))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has exited though.
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return bool(state) and not state.startswith("Z")


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status


def _failed_sign_in(base: str, forwarded_for: str) -> None:
    """A wrong password on the sign-in page, sent with an X-Forwarded-For header."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with browser.open(f"{base}/accounts/login/", timeout=5) as response:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode()).group(1)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "nobody", "password": "wrong"}).encode()
    request = urllib.request.Request(f"{base}/accounts/login/", data=form, headers={"X-Forwarded-For": forwarded_for})
    with browser.open(request, timeout=5) as response:
        assert response.status == 200  # the form again, with its error


@pytest.fixture
def platform_env(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update({"PLATFORM_DATA_DIR": str(tmp_path / "data"), "PY": sys.executable})
    env.pop("PLATFORM_SANDBOX", None)  # the script itself turns sandbox mode on
    env["PLATFORM_TRUSTED_PROXIES"] = "127.0.0.1"  # as if the test were the reverse proxy
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=300)
    return env


def test_run_platform_serves_and_ctrl_c_stops_everything(platform_env):
    port = _free_port()
    process = subprocess.Popen(
        ["bash", "scripts/run-platform", "127.0.0.1", str(port)],
        cwd=ROOT, env=platform_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(f"http://127.0.0.1:{port}/api/v1/tenders/") == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "the platform did not answer within 60 s"
            time.sleep(0.5)
        assert _get(f"http://127.0.0.1:{port}/tenders/") == 200
        children = _children(process.pid)
        commands = subprocess.run(["ps", "-o", "args=", "-p", ",".join(map(str, children))], capture_output=True, text=True).stdout
        assert "db_worker" in commands and "chronograph" in commands and "daphne" in commands
        _failed_sign_in(f"http://127.0.0.1:{port}", forwarded_for="1.2.3.4, 198.51.100.20")

        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)

    assert "/api/v1/docs/" in output and "platform stopped" in output
    time.sleep(0.5)
    assert not [pid for pid in children if _alive(pid)], output

    # daphne must not rewrite the peer address from X-Forwarded-For itself (--proxy-headers
    # believes the leftmost entry, which the client writes): the failed sign-in above is recorded
    # with the address our "proxy" saw, the rightmost entry that is not a trusted proxy.
    with sqlite3.connect(Path(platform_env["PLATFORM_DATA_DIR"]) / "db.sqlite3") as connection:
        rows = connection.execute("SELECT ip FROM audit_auditevent WHERE action = 'user.login_failed'").fetchall()
    assert rows == [("198.51.100.20",)]

