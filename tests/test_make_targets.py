"""scripts/run-platform (what `make run` ends with): it serves the platform with its worker and
chronograph, and Ctrl-C stops all three."""

import os
import signal
import socket
import subprocess
import sys
import time
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


@pytest.fixture
def platform_env(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update({"PLATFORM_DATA_DIR": str(tmp_path / "data"), "PY": sys.executable})
    env.pop("PLATFORM_SANDBOX", None)  # the script itself turns sandbox mode on
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

        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)

    assert "/api/v1/docs/" in output and "platform stopped" in output
    time.sleep(0.5)
    assert not [pid for pid in children if _alive(pid)], output
