"""A bidder answers a clarification in Chromium against the live platform: the answer typed over
two lines, two attachments, the key file holding its registered signing key; the page hashes the
files, gets the statement hash from the API, signs it and submits. The platform stores the answer
only with a valid signature: a key file with another signing key is stopped in the page (and
nothing is stored); the right one is accepted and the stored hashes match the files."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.urls import reverse

from bidding import keyfile
from evaluation.models import ClarificationStatus
from tests import factories
from tests.evaluation.clarification_helpers import ask, reviewing
from tests.evaluation.world import clock, eval_world  # noqa: F401
from tests.tendering.conftest import _fast_and_isolated  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSPHRASE = "评标澄清答复 test passphrase"


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_sync_playwright():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def key_file(path, signing) -> str:
    data = keyfile._seal(
        keyfile._passphrase_bytes(PASSPHRASE), decryption=ec.generate_private_key(ec.SECP256R1()), signing=signing,
        label="clarification test", created=datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        iterations=1000, salt=os.urandom(keyfile.SALT_BYTES), nonce=os.urandom(keyfile.NONCE_BYTES),
    )
    path.write_bytes(data)
    return str(path)


def test_bidder_answers_with_attachments_signed_in_the_browser(browser, live_server, eval_world, tmp_path):
    world = eval_world
    reviewing(world)
    c = ask(world, world.session, question="请说明项目经理的在岗安排。")
    attachments = {"在岗承诺书.pdf": b"%PDF-1.7 commitment " * 100, "roster.csv": b"name,role\nzhang,pm\n"}
    for name, content in attachments.items():
        (tmp_path / name).write_bytes(content)
    right = key_file(tmp_path / "right.json", world.bidders[0].signing)
    wrong = key_file(tmp_path / "wrong.json", ec.generate_private_key(ec.SECP256R1()))

    context = browser.new_context(base_url=live_server.url)
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    url = reverse("evaluation:clarification_detail", args=[c.pk])
    tab.goto(f"{reverse('accounts:login')}?next={url}")
    tab.fill("#id_username", world.bidders[0].user.username)
    tab.fill("#id_password", factories.PASSWORD)
    tab.click("form[action$='/login/'] button[type=submit]")
    tab.wait_for_url(f"**{url}")
    tab.wait_for_function("document.body.dataset.clarificationSign === 'ready'", timeout=10_000)
    try:
        assert "不得改变投标报价或投标文件的实质性内容" in tab.text_content("main")
        tab.fill("#answer", "项目经理张工全职在岗。\n附在岗承诺书和人员名单。")
        tab.set_input_files("#attachments", [str(tmp_path / name) for name in attachments])
        tab.set_input_files("#key-file", wrong)
        tab.fill("#passphrase", PASSPHRASE)
        tab.click("#sign-submit")
        tab.wait_for_function("document.getElementById('sign-status').className === 'check-error'", timeout=30_000)
        assert "不是本单位当前登记的签名密钥" in tab.text_content("#sign-status")
        c.refresh_from_db()
        assert c.status == ClarificationStatus.OPEN

        tab.set_input_files("#key-file", right)
        tab.fill("#passphrase", PASSPHRASE)
        with tab.expect_navigation(timeout=30_000):
            tab.click("#sign-submit")
        tab.wait_for_load_state()
        assert "答复已签名提交" in tab.text_content("main")
        c.refresh_from_db()
        assert c.status == ClarificationStatus.ANSWERED
        assert c.answer == "项目经理张工全职在岗。\n附在岗承诺书和人员名单。"
        stored = {a.filename: a.sha256 for a in c.attachments.all()}
        assert stored == {name: hashlib.sha256(content).hexdigest() for name, content in attachments.items()}
        assert c.answer_sha256 in tab.text_content("main")
    finally:
        context.close()
    assert not errors, f"uncaught errors on the page: {errors}"
