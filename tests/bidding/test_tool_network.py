"""The bid tool's network commands against the real API, served by pytest-django's live server:
register-key, upload (with resume after an interruption), status, withdraw and release-key, and
each refusal: exit code 1 and a message saying what is wrong, nothing changed on the platform.

The tool runs in-process through `main(argv)` (the server thread shares the patched clock) and
once as a subprocess with a clean environment, to show the network commands need no Django."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.services import api_token_create
from bidding import keyfile
from bidding.models import BidderKey, KeyStatus
from bidding.tool import client as tool_client
from bidding.tool import main
from tests.factories import actor, person

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple"
FAST = ["--iterations", "1000"]


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
