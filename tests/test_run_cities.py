"""scripts/run-cities (what `make run` ends with): Dongguan and Zhongshan as two platforms on two
ports, each with its own data folder, SQLite database, platform key and demo world, partners with
an agreement both signed; a browser signed in at both stays signed in at both; Ctrl-C stops every
process of both cities; pairing again changes nothing."""

import http.cookiejar
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.test_make_targets import _alive, _children, _free_port

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Demo-2026-sandbox"


@pytest.fixture
def cities_env(tmp_path):
    drop = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY", "PLATFORM_SANDBOX",
            "PLATFORM_REGION_CODE", "PLATFORM_REGION_NAME", "PLATFORM_BASE_URL", "PLATFORM_SESSION_COOKIE_NAME", "CITIES")
    env = {key: value for key, value in os.environ.items() if key not in drop and not key.startswith("ZHONGSHAN_")}
    env.update({"PLATFORM_DATA_DIR": str(tmp_path / "data"), "PY": sys.executable})
    return env


class Output:
    """The script's output, read as it comes (so the test can wait for a line)."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for line in stream:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)


def _browser():
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def _page(browser, url: str) -> str:
    with browser.open(url, timeout=10) as response:
        assert response.status == 200
        return response.read().decode()


def _sign_in(browser, base: str, username: str) -> None:
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', _page(browser, f"{base}/accounts/login/")).group(1)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD}).encode()
    request = urllib.request.Request(f"{base}/accounts/login/", data=form, headers={"Referer": f"{base}/accounts/login/"})
    with browser.open(request, timeout=10) as response:
        assert response.status == 200 and "accounts/login" not in response.url, "the sign-in was refused"


def _who(page: str) -> str:
    found = re.search(r'<span class="who">([^<]*)</span>', page)
    return found.group(1) if found else ""


def _metadata(base: str) -> dict:
    """The platform's public metadata (/.well-known/etender-platform.json)."""
    with urllib.request.urlopen(f"{base}/.well-known/etender-platform.json", timeout=5) as response:
        return json.loads(response.read())


def _query(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


class Cities:
    """scripts/run-cities started in its own session (as from a terminal), until it says it serves."""

    def __init__(self, env: dict, dongguan_port: int, zhongshan_port: int, *, within: float):
        self.process = subprocess.Popen(
            ["bash", "scripts/run-cities", "127.0.0.1", str(dongguan_port), str(zhongshan_port)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        self.output = Output(self.process.stdout)
        started = time.monotonic()
        try:
            while "serving (Ctrl-C stops both cities" not in self.output.text:
                assert self.process.poll() is None, self.output.text
                assert time.monotonic() < started + within, f"the cities were not up within {within} s:\n{self.output.text}"
                time.sleep(0.3)
            self.children = _children(self.process.pid)
        except BaseException:
            self.kill()
            raise

    def ctrl_c(self) -> str:
        """What Ctrl-C in the terminal does; the script's whole output once it has stopped."""
        try:
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(timeout=30)
            self.output.thread.join(timeout=10)
        finally:
            self.kill()
        return self.output.text

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)


AGREEMENTS = "SELECT uuid, state, proposed_by_us, length(own_signature), length(partner_signature) FROM crossregion_agreement"


def test_run_cities_serves_dongguan_and_zhongshan_apart_partners_and_ctrl_c_stops_both(cities_env, tmp_path):
    dongguan_port, zhongshan_port = _free_port(), _free_port()
    assert dongguan_port != zhongshan_port
    dongguan, zhongshan = f"http://127.0.0.1:{dongguan_port}", f"http://127.0.0.1:{zhongshan_port}"
    cities = Cities(cities_env, dongguan_port, zhongshan_port, within=50)
    sandbox = {"PLATFORM_SANDBOX": "1", "DJANGO_SETTINGS_MODULE": "config.settings"}
    dongguan_env = {**sandbox, "PLATFORM_REGION_CODE": "441900", "PLATFORM_REGION_NAME": "东莞", "PLATFORM_DATA_DIR": str(tmp_path / "data"),
                    "PLATFORM_BASE_URL": dongguan}
    zhongshan_env = {**sandbox, "PLATFORM_REGION_CODE": "442000", "PLATFORM_REGION_NAME": "中山",
                     "PLATFORM_DATA_DIR": str(tmp_path / "data-zhongshan"), "PLATFORM_BASE_URL": zhongshan}
    try:
        # Two platforms: each page names its own region; each serves its own metadata.
        browser = _browser()
        dongguan_page, zhongshan_page = _page(browser, f"{dongguan}/"), _page(browser, f"{zhongshan}/")
        assert "东莞公共资源交易平台" in dongguan_page and "平台行政区划代码 441900" in dongguan_page
        assert "中山公共资源交易平台" in zhongshan_page and "平台行政区划代码 442000" in zhongshan_page
        dongguan_metadata, zhongshan_metadata = _metadata(dongguan), _metadata(zhongshan)
        assert (dongguan_metadata["region_code"], dongguan_metadata["base_url"]) == ("441900", dongguan)
        assert (zhongshan_metadata["region_code"], zhongshan_metadata["base_url"]) == ("442000", zhongshan)
        assert dongguan_metadata["key"]["key_id"] != zhongshan_metadata["key"]["key_id"]

        # One browser signed in at both cities (cookies are per host, not per port) stays signed in at both.
        _sign_in(browser, dongguan, "centre")
        _sign_in(browser, zhongshan, "zs-centre")
        assert "东莞市公共资源交易中心" in _who(_page(browser, f"{dongguan}/tenders/"))
        assert "中山市公共资源交易中心" in _who(_page(browser, f"{zhongshan}/tenders/"))

        commands = subprocess.run(["ps", "-o", "args=", "-p", ",".join(map(str, cities.children))],
                                  capture_output=True, text=True, check=False).stdout
        for program in ("db_worker", "chronograph", "daphne"):
            assert commands.count(program) == 2, commands
        assert f"-p {dongguan_port}" in commands and f"-p {zhongshan_port}" in commands

        # Pairing again (as every start does) finds the partnership in force and changes nothing.
        events = "SELECT count(*) FROM audit_auditevent WHERE action LIKE 'crossregion.%'"
        databases = (tmp_path / "data" / "db.sqlite3", tmp_path / "data-zhongshan" / "db.sqlite3")
        before = [(_query(db, AGREEMENTS), _query(db, events)) for db in databases]
        for env, partner_url, extra in ((dongguan_env, zhongshan, ["--propose"]), (zhongshan_env, dongguan, [])):
            again = subprocess.run([sys.executable, "manage.py", "crossregion_pair", "--partner-url", partner_url, *extra],
                                   cwd=ROOT, env={**cities_env, **env}, capture_output=True, text=True, timeout=60, check=False)
            assert again.returncode == 0 and "in force" in again.stdout, again.stdout + again.stderr
        assert [(_query(db, AGREEMENTS), _query(db, events)) for db in databases] == before
    finally:
        text = cities.ctrl_c()

    # The summary: both cities' URLs and logins, and the partnership.
    for expected in (f"{dongguan}/", f"{zhongshan}/", "centre", "expert7", "zs-centre", "zs-regulator", "zs-expert5", PASSWORD,
                     "partnership: signed by both"):
        assert expected in text, text
    assert "[东莞] platform stopped" in text and "[中山] platform stopped" in text and "cities stopped" in text
    time.sleep(0.5)
    assert not [pid for pid in cities.children if _alive(pid)], text

    # Two data folders, two databases, two platform keys, two demo worlds.
    dongguan_db, zhongshan_db = tmp_path / "data" / "db.sqlite3", tmp_path / "data-zhongshan" / "db.sqlite3"
    assert (tmp_path / "data" / "platform_ed25519.pem").read_bytes() != (tmp_path / "data-zhongshan" / "platform_ed25519.pem").read_bytes()
    centres = "SELECT name FROM accounts_organisation WHERE kind = 'centre'"
    assert _query(dongguan_db, centres) == [("东莞市公共资源交易中心",)]
    assert _query(zhongshan_db, centres) == [("中山市公共资源交易中心",)]
    assert _query(dongguan_db, "SELECT count(*) FROM tendering_tender") == [(2,)]
    assert _query(zhongshan_db, "SELECT count(*) FROM tendering_tender") == [(0,)]
    assert sorted(path.name for path in (tmp_path / "data-zhongshan" / "demo").iterdir()) == [f"zs-expert{n}-keys.json" for n in range(1, 6)]

    # Partners of each other, one agreement proposed by Dongguan and signed by both, at both.
    partners = "SELECT region_code, base_url FROM crossregion_partner"
    assert _query(dongguan_db, partners) == [("442000", zhongshan)]
    assert _query(zhongshan_db, partners) == [("441900", dongguan)]
    (uuid, state, ours, own_signature, partner_signature), = _query(dongguan_db, AGREEMENTS)
    assert (state, ours, own_signature, partner_signature) == ("active", 1, 86, 86)
    assert _query(zhongshan_db, AGREEMENTS) == [(uuid, "active", 0, 86, 86)]


@pytest.mark.parametrize(
    ("args", "extra", "message"),
    [
        (["127.0.0.1", "18000", "18000"], {}, "cannot share port 18000"),
        (["127.0.0.1", "18000", "18001"], {"CITIES": "dongguan guangzhou"}, "unknown city 'guangzhou'"),
    ],
)
def test_run_cities_refuses_a_shared_port_or_an_unknown_city_before_starting_anything(cities_env, tmp_path, args, extra, message):
    result = subprocess.run(["bash", "scripts/run-cities", *args], cwd=ROOT, env={**cities_env, **extra},
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2 and message in result.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "data-zhongshan").exists()


def test_run_cities_refuses_a_port_already_in_use_before_starting_anything(cities_env, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        result = subprocess.run(["bash", "scripts/run-cities", "127.0.0.1", str(_free_port()), str(taken)], cwd=ROOT, env=cities_env,
                                capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2 and f"port {taken} (for 中山) is already in use" in result.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "data-zhongshan").exists()
