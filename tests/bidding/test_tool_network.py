"""The bid tool's network commands against the real API, served by pytest-django's live server:
register-key, upload (with resume after an interruption), status, withdraw and release-key, and
each refusal: exit code 1 and a message saying what is wrong, nothing changed on the platform.

The tool runs in-process through `main(argv)` (the server thread shares the patched clock) and
once as a subprocess with a clean environment, to show the network commands need no Django."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.services import api_token_create
from bidding import keyfile, receipts
from bidding.models import Bid, BidderKey, BidUpload, KeyStatus
from bidding.tool import client as tool_client
from bidding.tool import main
from bidding.tool.receipts import SHANGHAI
from tendering.models import TenderState
from tests.factories import actor, make_tender, person, register_bidder
from tests.tendering.conftest import START, Clock

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple"
FAST = ["--iterations", "1000"]
CHUNK = 4096  # the platform's chunk size in these tests (PLATFORM_BID_CHUNK_BYTES)


@pytest.fixture(autouse=True)
def _platform(settings, tmp_path, monkeypatch):
    settings.DATA_DIR = tmp_path / "data"  # the platform's receipt key is generated here
    monkeypatch.setattr(tool_client, "RETRY_DELAYS", (0.0, 0.0, 0.0))
    monkeypatch.setenv("PP", PASSPHRASE)
    monkeypatch.delenv("ETENDER_TOKEN", raising=False)
    monkeypatch.delenv("ETENDER_SERVER", raising=False)


def token_for(user) -> str:
    _, secret = api_token_create(by=actor(user), user=user, name="bid tool")
    return secret


@pytest.fixture
def online(live_server, monkeypatch):
    """Point the tool at the live server as `user`: `online(user)`."""

    def as_user(user):
        monkeypatch.setenv("ETENDER_SERVER", live_server.url)
        monkeypatch.setenv("ETENDER_TOKEN", token_for(user))
        return user

    return as_user


def run(*argv) -> int:
    return main([str(a) for a in argv])


def keygen(folder: Path, name: str = "keys.json") -> Path:
    assert run("keygen", "--out", folder / name, "--passphrase-env", "PP", *FAST) == 0
    return folder / name


def grouped(fingerprint: str) -> str:
    return " ".join(fingerprint[i:i + 4] for i in range(0, len(fingerprint), 4))


def refused(capsys, *expected) -> str:
    err = capsys.readouterr().err
    assert "错误：" in err, err
    for text in expected:
        assert text in err, err
    return err


def active_fingerprints(organisation) -> set[str]:
    return set(BidderKey.objects.filter(organisation=organisation, status=KeyStatus.ACTIVE).values_list("fingerprint", flat=True))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------ register-key


def test_register_key_shows_the_registered_fingerprints_equal_to_show_key(online, tmp_path, capsys):
    bidder = online(person("bidder"))
    keys = keygen(tmp_path)
    public = keyfile.load_public(keys.read_bytes())
    capsys.readouterr()

    assert run("register-key", "--keys", keys) == 0
    out = capsys.readouterr().out
    assert grouped(public.fingerprints.decryption) in out and grouped(public.fingerprints.signing) in out
    assert "show-key" in out
    assert active_fingerprints(bidder.organisation) == {public.fingerprints.decryption, public.fingerprints.signing}

    # Again: nothing to do, and it says so.
    assert run("register-key", "--keys", keys) == 0
    assert "已经登记" in capsys.readouterr().out
    assert BidderKey.objects.filter(organisation=bidder.organisation).count() == 2


def test_register_key_asks_before_rotating_and_rotates_with_yes(online, tmp_path, capsys, monkeypatch):
    bidder = online(person("bidder"))
    first, second = keygen(tmp_path), keygen(tmp_path, "new-keys.json")
    assert run("register-key", "--keys", first) == 0
    before = active_fingerprints(bidder.organisation)
    capsys.readouterr()

    monkeypatch.setattr("builtins.input", lambda prompt="": "n")
    assert run("register-key", "--keys", second) == 1
    out = capsys.readouterr().out
    assert "撤销" in out and "已取消" in out
    assert active_fingerprints(bidder.organisation) == before

    def closed_stdin(prompt=""):
        raise EOFError

    monkeypatch.setattr("builtins.input", closed_stdin)
    assert run("register-key", "--keys", second) == 1
    refused(capsys, "--yes")
    assert active_fingerprints(bidder.organisation) == before

    assert run("register-key", "--keys", second, "--yes") == 0
    new = keyfile.load_public(second.read_bytes()).fingerprints
    assert active_fingerprints(bidder.organisation) == {new.decryption, new.signing}


def test_register_key_refused_without_a_token(live_server, tmp_path, capsys, monkeypatch):
    keys = keygen(tmp_path)
    monkeypatch.setenv("ETENDER_SERVER", live_server.url)
    capsys.readouterr()
    assert run("register-key", "--keys", keys) == 1
    refused(capsys, "ETENDER_TOKEN", "never asks for your password")
    assert run("register-key", "--keys", keys, "--token-env", "MY_TOKEN") == 1
    refused(capsys, "MY_TOKEN")
    assert not BidderKey.objects.exists()


def test_register_key_refused_with_a_wrong_token(live_server, tmp_path, capsys, monkeypatch):
    person("bidder")
    keys = keygen(tmp_path)
    monkeypatch.setenv("OTHER_TOKEN", "not-a-token")
    capsys.readouterr()
    assert run("register-key", "--keys", keys, "--server", live_server.url, "--token-env", "OTHER_TOKEN") == 1
    refused(capsys, "令牌无效", "not_authenticated")
    assert not BidderKey.objects.exists()


def test_register_key_refused_for_a_tenderer(online, tmp_path, capsys):
    online(person("tenderer"))
    keys = keygen(tmp_path)
    capsys.readouterr()
    assert run("register-key", "--keys", keys) == 1
    refused(capsys, "permission_denied")
    assert not BidderKey.objects.exists()


def test_an_unreachable_platform_is_a_clear_refusal(tmp_path, capsys, monkeypatch):
    keys = keygen(tmp_path)
    monkeypatch.setenv("ETENDER_TOKEN", "whatever")
    capsys.readouterr()
    assert run("register-key", "--keys", keys, "--server", f"http://127.0.0.1:{free_port()}") == 1
    refused(capsys, "无法连接平台", "connection refused")
    assert run("register-key", "--keys", keys, "--server", "ftp://example.org") == 2
    refused(capsys, "ftp://example.org")


def test_register_key_as_a_subprocess_without_django(live_server, tmp_path):
    bidder = person("bidder")
    keys = keygen(tmp_path)
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO")}
    env.update(PYTHONPATH=str(REPO), ETENDER_SERVER=live_server.url, ETENDER_TOKEN=token_for(bidder))
    result = subprocess.run(
        [sys.executable, "-m", "bidding.tool", "register-key", "--keys", str(keys)], cwd=tmp_path, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    public = keyfile.load_public(keys.read_bytes())
    assert grouped(public.fingerprints.signing) in result.stdout
    assert active_fingerprints(bidder.organisation) == {public.fingerprints.decryption, public.fingerprints.signing}


# ----------------------------------------------------------------------------- a tender to bid on


class World:
    """A published tender with two lots, a bidder that obtained its documents, and the bidder's
    key file registered with the tool; `seal()` packs and seals a bid for a lot with the tool."""

    def __init__(self, folder: Path, online, clock):
        self.folder, self.clock = folder, clock
        self.owner = person("tenderer")
        self.tender = make_tender(self.owner, state=TenderState.PUBLISHED, lots=2)
        self.lot, self.other_lot = list(self.tender.lots.order_by("number"))
        self.bidder = online(register_bidder(self.tender))
        self.keys = keygen(folder)
        assert run("register-key", "--keys", self.keys) == 0

    def seal(self, name: str = "bid.sealed", *, lot=None, bidder=None, keys=None, document_bytes: int = 30_000) -> Path:
        lot = lot or self.lot
        organisation = (bidder or self.bidder).organisation
        work = self.folder / f"{name}.work"
        (work / "docs").mkdir(parents=True)
        (work / "docs" / "投标函.pdf").write_bytes(b"%PDF-1.7 " + os.urandom(document_bytes))
        summary = {
            "tender": str(lot.tender_id), "lot": str(lot.pk), "bidder": organisation.credit_code, "price_fen": 123456789,
            "price_capital": "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分", "duration_days": 180, "quality": "合格",
            "project_manager": {"name": "张三", "certificate": "粤144123456789"},
        }
        (work / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
        assert run("pack", work / "docs", "--summary", work / "summary.json", "--out", work / "bid.zip") == 0
        target = self.folder / name
        assert run(
            "seal", work / "bid.zip", "--keys", keys or self.keys, "--tender", lot.tender_id, "--lot", lot.pk,
            "--bidder", organisation.pk, "--out", target, "--passphrase-env", "PP",
        ) == 0
        return target


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(START)
    monkeypatch.setattr(timezone, "now", fake)  # the live server runs in this process: it reads this clock too
    return fake


@pytest.fixture
def world(tmp_path, online, clock, settings, capsys):
    settings.PLATFORM_BID_CHUNK_BYTES = CHUNK
    made = World(tmp_path, online, clock)
    capsys.readouterr()
    return made


class Wire:
    """Records the tool's requests (method, path, Content-Range); `fail(n, error)` makes the n-th
    PUT from now on, and every one after it if `every`, raise `error` before anything is sent."""

    def __init__(self, monkeypatch):
        self.requests: list[tuple[str, str, str | None]] = []
        self._fail_at, self._error, self._every, self._puts = None, None, False, 0
        original = tool_client.Client._once

        def once(client, method, target, body, headers, on_sent, timeout):
            if method == "PUT":
                self._puts += 1
                if self._fail_at is not None and (self._puts == self._fail_at or (self._every and self._puts > self._fail_at)):
                    raise self._error
            self.requests.append((method, target, headers.get("Content-Range")))
            return original(client, method, target, body, headers, on_sent, timeout)

        monkeypatch.setattr(tool_client.Client, "_once", once)

    def fail(self, n: int, error: BaseException, *, every: bool = False) -> None:
        self._fail_at, self._error, self._every, self._puts = n, error, every, 0

    def clear(self) -> None:
        self.requests.clear()
        self._fail_at = None

    def puts(self) -> list[str]:
        return [content_range for method, _, content_range in self.requests if method == "PUT"]


@pytest.fixture
def wire(monkeypatch):
    return Wire(monkeypatch)


def chunk_ranges(size: int, chunk: int = CHUNK) -> list[str]:
    return [f"bytes {start}-{min(start + chunk, size) - 1}/{size}" for start in range(0, size, chunk)]


def open_upload(world) -> BidUpload:
    return BidUpload.objects.get(lot=world.lot, bidder=world.bidder.organisation, status="open")


def upload_args(sealed: Path, lot) -> list:
    return ["upload", sealed, "--lot", lot.pk]


# ---------------------------------------------------------------------------------- upload


def test_upload_gives_a_verified_receipt(world, wire, capsys):
    sealed = world.seal()
    size = sealed.stat().st_size
    assert size > 5 * CHUNK

    assert run(*upload_args(sealed, world.lot), "--progress") == 0
    captured = capsys.readouterr()
    bid = Bid.objects.get(lot=world.lot, bidder=world.bidder.organisation)
    digest = hashlib.sha256(sealed.read_bytes()).hexdigest()
    assert (bid.status, bid.version, bid.sha256, bid.size) == ("received", 1, digest, size)
    assert wire.puts() == chunk_ranges(size)  # cut at the server's chunk size, each sent once

    receipt = json.loads(Path(f"{sealed}.receipt.json").read_text(encoding="utf-8"))
    assert receipts.verify_receipt(receipt)  # the platform's own check agrees with the tool's
    assert receipt["statement"]["sealed_sha256"] == digest and receipt["statement"]["bid"] == bid.pk
    assert Path(f"{sealed}.receipt.pdf").read_bytes().startswith(b"%PDF")
    assert not Path(f"{sealed}.upload.json").exists()  # the upload is done: no state left

    out = captured.out
    received = bid.received_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    for expected in (f"投标编号（bid id）：{bid.pk}", "版本（version）：1", f"{received}（北京时间）", digest, "回执核验通过"):
        assert expected in out, out
    assert "上传（uploading） [" in captured.err and "100.0%" in captured.err and "KiB/s" in captured.err


def test_a_second_upload_replaces_the_first_and_the_same_file_again_shows_its_receipt(world, wire, capsys):
    first, second = world.seal("v1.sealed"), world.seal("v2.sealed")
    assert run(*upload_args(first, world.lot)) == 0
    assert run(*upload_args(second, world.lot)) == 0
    capsys.readouterr()
    versions = dict(Bid.objects.filter(lot=world.lot).values_list("version", "status"))
    assert versions == {1: "replaced", 2: "received"}

    # The accepted file again: nothing is sent, the receipt is fetched and verified.
    Path(f"{second}.receipt.json").unlink()
    wire.clear()
    assert run(*upload_args(second, world.lot)) == 0
    out = capsys.readouterr().out
    assert "已经递交" in out and "版本（version）：2" in out and "回执核验通过" in out
    assert wire.puts() == [] and Bid.objects.filter(lot=world.lot).count() == 2
    assert Path(f"{second}.receipt.json").exists()


def test_upload_interrupted_by_ctrl_c_resumes_sending_only_the_missing_chunks(world, wire, capsys):
    sealed = world.seal()
    size = sealed.stat().st_size
    wire.fail(4, KeyboardInterrupt())  # Ctrl-C while the 4th chunk is about to go

    assert run(*upload_args(sealed, world.lot)) == 130
    err = capsys.readouterr().err
    assert "上传已中断" in err and "再次运行同一命令" in err
    state = json.loads(Path(f"{sealed}.upload.json").read_text(encoding="utf-8"))
    upload = open_upload(world)
    assert state["upload"] == str(upload.pk) and state["size"] == size
    assert [list(r) for r in upload.chunks.order_by("start").values_list("start", "end")] == [[0, CHUNK], [CHUNK, 2 * CHUNK], [2 * CHUNK, 3 * CHUNK]]
    assert not Bid.objects.exists()

    wire.clear()
    assert run(*upload_args(sealed, world.lot)) == 0
    assert wire.puts() == chunk_ranges(size)[3:]  # only what the platform missed
    assert Bid.objects.get().sha256 == hashlib.sha256(sealed.read_bytes()).hexdigest()
    assert not Path(f"{sealed}.upload.json").exists()


def test_without_its_state_file_the_upload_is_found_by_its_header(world, wire, capsys):
    sealed = world.seal()
    size = sealed.stat().st_size
    wire.fail(3, KeyboardInterrupt())
    assert run(*upload_args(sealed, world.lot)) == 130
    Path(f"{sealed}.upload.json").unlink()  # e.g. the file was copied to another computer

    wire.clear()
    assert run(*upload_args(sealed, world.lot)) == 0
    assert wire.puts() == chunk_ranges(size)[2:]
    assert BidUpload.objects.filter(lot=world.lot).count() == 1  # no second upload was created


def test_a_dropped_connection_is_retried_and_a_lasting_one_stops_with_run_again(world, wire, capsys):
    sealed = world.seal()
    size = sealed.stat().st_size
    wire.fail(2, ConnectionResetError(104, "Connection reset by peer"))  # one blip: tried again at once
    assert run(*upload_args(sealed, world.lot)) == 0
    assert wire.puts() == chunk_ranges(size)
    capsys.readouterr()

    again = world.seal("again.sealed")
    wire.clear()
    wire.fail(3, ConnectionResetError(104, "Connection reset by peer"), every=True)  # the network stays down
    assert run(*upload_args(again, world.lot)) == 1
    refused(capsys, "无法连接平台", "再次运行同一命令", "run the same command again")
    assert open_upload(world).chunks.count() == 2 and Path(f"{again}.upload.json").exists()

    wire.clear()
    assert run(*upload_args(again, world.lot)) == 0
    assert wire.puts() == chunk_ranges(again.stat().st_size)[2:]
    assert Bid.objects.get(status="received").sha256 == hashlib.sha256(again.read_bytes()).hexdigest()


def test_a_killed_upload_process_is_resumed(world, wire, settings, tmp_path):
    """The tool as a subprocess without Django, killed (SIGKILL) in the middle of the upload."""
    chunk = settings.PLATFORM_BID_CHUNK_BYTES = 4 * CHUNK
    sealed = world.seal(document_bytes=500_000)
    size = sealed.stat().st_size
    everything = chunk_ranges(size, chunk)
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO")}
    env.update(PYTHONPATH=str(REPO))
    stored = tmp_path / "bids" / "uploads"  # where the platform keeps the chunks (tests/conftest.py)
    process = subprocess.Popen(
        [sys.executable, "-m", "bidding.tool", "upload", str(sealed), "--lot", str(world.lot.pk)], cwd=world.folder, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        # Watched on disk, not through the API: the test database takes one request at a time.
        until = time.monotonic() + 60
        while time.monotonic() < until and process.poll() is None and sum(1 for _ in stored.rglob("*")) < 4:
            time.sleep(0.01)
        assert process.poll() is None, "the upload finished before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    time.sleep(0.5)  # the platform finishes storing the chunk it was reading, or drops it

    received = open_upload(world).chunks.count()
    assert 0 < received < len(everything)
    assert Path(f"{sealed}.upload.json").exists()
    assert run(*upload_args(sealed, world.lot)) == 0
    assert set(wire.puts()) <= set(everything)
    assert len(wire.puts()) == len(everything) - received  # only the chunks the platform misses
    assert Bid.objects.get().sha256 == hashlib.sha256(sealed.read_bytes()).hexdigest()


# ------------------------------------------------------------------------- upload refusals


def test_upload_refused_after_the_deadline(world, capsys):
    sealed = world.seal()
    world.clock.set(world.tender.bid_deadline + timedelta(seconds=1))
    assert run(*upload_args(sealed, world.lot)) == 1
    refused(capsys, "deadline_passed")
    assert not Bid.objects.exists() and not BidUpload.objects.exists()
    assert not Path(f"{sealed}.upload.json").exists()


def test_deadline_passing_during_an_upload_refuses_it_at_finalisation(world, wire, capsys):
    sealed = world.seal()
    wire.fail(2, KeyboardInterrupt())
    assert run(*upload_args(sealed, world.lot)) == 130
    world.clock.set(world.tender.bid_deadline + timedelta(seconds=1))
    wire.clear()
    assert run(*upload_args(sealed, world.lot)) == 1
    refused(capsys, "deadline_passed")
    assert not Bid.objects.exists()


def test_upload_refused_for_a_file_sealed_for_another_lot_than_given(world, wire, capsys):
    sealed = world.seal(lot=world.other_lot)
    assert run(*upload_args(sealed, world.lot)) == 1
    refused(capsys, f"--lot {world.lot.pk}", "nothing was sent")
    assert wire.requests == []


def test_upload_refused_for_a_bidder_without_the_tender_documents(world, online, tmp_path, capsys):
    outsider = online(person("bidder"))
    keys = keygen(tmp_path, "outsider.json")
    assert run("register-key", "--keys", keys) == 0
    sealed = world.seal("outsider.sealed", bidder=outsider, keys=keys)
    capsys.readouterr()
    assert run(*upload_args(sealed, world.lot)) == 1
    refused(capsys, "获取招标文件", "obtained the tender documents")  # the platform answers 403, not `not_registered`
    assert not BidUpload.objects.exists()


def test_upload_refused_for_a_file_bound_to_another_bidder(world, online, capsys):
    sealed = world.seal()  # bound to world.bidder, sealed with its keys
    other = register_bidder(world.tender)
    online(other)
    capsys.readouterr()
    assert run(*upload_args(sealed, world.lot)) == 1
    err = refused(capsys)
    assert "binding_mismatch" in err or "key_not_usable" in err
    assert not BidUpload.objects.exists()


def test_upload_refused_without_a_token(world, monkeypatch, capsys):
    sealed = world.seal()
    monkeypatch.delenv("ETENDER_TOKEN")
    assert run(*upload_args(sealed, world.lot)) == 1
    refused(capsys, "ETENDER_TOKEN")
    assert not BidUpload.objects.exists()


def test_upload_refused_for_a_truncated_file_before_sending(world, wire, capsys):
    sealed = world.seal()
    sealed.write_bytes(sealed.read_bytes()[:-100])
    assert run(*upload_args(sealed, world.lot)) == 1
    refused(capsys, "不完整", "nothing was sent")
    assert wire.requests == []


# ------------------------------------------------------------------ status, withdraw, release-key


def test_status_lists_the_bids_and_the_open_uploads(world, wire, capsys):
    first = world.seal("v1.sealed")
    assert run(*upload_args(first, world.lot)) == 0
    second = world.seal("v2.sealed")
    wire.fail(2, KeyboardInterrupt())
    assert run(*upload_args(second, world.lot)) == 130
    capsys.readouterr()

    assert run("status", "--lot", world.lot.pk) == 0
    out = capsys.readouterr().out
    bid = Bid.objects.get()
    assert f"投标编号（bid id）：{bid.pk}" in out and "已递交" in out and bid.sha256 in out and "版本（version）：1" in out
    assert str(open_upload(world).pk) in out and f"{CHUNK:,}/{second.stat().st_size:,} B" in out
    assert run("status", "--lot", world.other_lot.pk) == 0
    out = capsys.readouterr().out
    assert "本单位的投标（your organisation's bids）：0" in out and "open uploads）：0" in out


def test_withdraw_asks_then_withdraws_and_refuses_a_second_time(world, monkeypatch, capsys):
    assert run(*upload_args(world.seal(), world.lot)) == 0
    bid = Bid.objects.get()
    capsys.readouterr()

    monkeypatch.setattr("builtins.input", lambda prompt="": "n")
    assert run("withdraw", bid.pk) == 1
    assert "已取消" in capsys.readouterr().out
    bid.refresh_from_db()
    assert bid.status == "received"

    monkeypatch.setattr("builtins.input", lambda prompt="": "y")
    assert run("withdraw", bid.pk, "--reason", "报价有误") == 0
    assert "已撤回" in capsys.readouterr().out
    bid.refresh_from_db()
    assert bid.status == "withdrawn" and bid.withdrawn_at is not None

    assert run("withdraw", bid.pk, "--yes") == 1
    refused(capsys, "not_in_force")


def test_withdraw_refused_for_another_bidders_bid(world, online, capsys):
    assert run(*upload_args(world.seal(), world.lot)) == 0
    bid = Bid.objects.get()
    online(register_bidder(world.tender))
    capsys.readouterr()
    assert run("withdraw", bid.pk, "--yes") == 1
    refused(capsys, "not_found")
    bid.refresh_from_db()
    assert bid.status == "received"


def test_withdraw_refused_after_the_deadline(world, capsys):
    assert run(*upload_args(world.seal(), world.lot)) == 0
    world.clock.set(world.tender.bid_deadline + timedelta(minutes=1))
    capsys.readouterr()
    assert run("withdraw", Bid.objects.get().pk, "--yes") == 1
    refused(capsys, "deadline_passed")
    assert Bid.objects.get().status == "received"


def test_release_key_before_the_opening_is_refused_with_opening_not_started(world, wire, capsys):
    sealed = world.seal()
    assert run(*upload_args(sealed, world.lot)) == 0
    bid = Bid.objects.get()
    capsys.readouterr()
    wire.clear()
    assert run("release-key", sealed, "--keys", world.keys, "--bid", bid.pk, "--passphrase-env", "PP") == 1
    refused(capsys, "开标尚未开始", "opening has not started")
    posted = [target for method, target, _ in wire.requests if method == "POST"]
    assert posted == [f"/api/v1/bids/{bid.pk}/release-key/"]


def test_release_key_refuses_a_file_that_is_not_the_bids_before_unlocking(world, capsys, monkeypatch):
    first, second = world.seal("v1.sealed"), world.seal("v2.sealed")
    assert run(*upload_args(first, world.lot)) == 0
    bid = Bid.objects.get()
    capsys.readouterr()
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail("asked for the passphrase"))
    assert run("release-key", second, "--keys", world.keys, "--bid", bid.pk) == 1
    refused(capsys, "密文 SHA-256 不同", "was not sent")
