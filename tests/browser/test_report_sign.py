"""The evaluation report signed in the browser: a key file made by keyfile.js (as the keys page
does), its signing key registered as the member's ExpertKey, the report hash signed with
static/js/evaluation/report_sign.js signReportHash, and the signature accepted by report_sign;
another member's key file is refused."""

from __future__ import annotations

import pytest

from config.errors import DomainError
from evaluation import report_signing
from evaluation.models import ReportSignature
from evaluation.services.report import expert_key_register, report_draft, report_sign
from tests.evaluation.report_world import reporting
from tests.evaluation.world import clock, eval_world  # noqa: F401
from tests.tendering.conftest import _fast_and_isolated  # noqa: F401

pytestmark = pytest.mark.browser

PASSPHRASE = "评标报告签名 test passphrase"

CREATE = """async (passphrase) => {
    const { createKeyFile, readPublicPart } = await import("/static/js/sealbid/keyfile.js");
    const text = await createKeyFile(passphrase, { iterations: 1000, label: "expert" });
    return [text, readPublicPart(text).signing.publicJwk];
}"""

SIGN = """async ([text, passphrase, hashHex]) => {
    const { openKeyFile } = await import("/static/js/sealbid/keyfile.js");
    const { signReportHash } = await import("/static/js/evaluation/report_sign.js");
    const keys = await openKeyFile(text, passphrase);
    return await signReportHash(keys, hashHex);
}"""


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_sync_playwright():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db
def test_a_member_signs_the_report_in_the_browser(page, eval_world):
    rep = reporting(eval_world, with_keys=False)
    member, other = rep.members[1], rep.members[2]
    files = {}
    for m in (member, other):
        text, jwk = page.evaluate(CREATE, PASSPHRASE)
        expert_key_register(by=rep.by(m), public_jwk={k: jwk[k] for k in ("kty", "crv", "x", "y")})
        files[m.pk] = text
    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    wrong = page.evaluate(SIGN, [files[other.pk], PASSPHRASE, report.statement_sha256])
    with pytest.raises(DomainError) as refused:
        report_sign(by=rep.by(member), report=report, signature_b64=wrong)
    assert refused.value.code == "bad_signature"
    signature = page.evaluate(SIGN, [files[member.pk], PASSPHRASE, report.statement_sha256])
    assert len(report_signing.decode(signature)) == 64
    report_sign(by=rep.by(member), report=report, signature_b64=signature)
    assert ReportSignature.objects.get(report=report).member == member


# --- the pages on the live platform ---------------------------------------------------------------

PAGE_PASSPHRASE = "专家签名密钥口令 keys 2026"


def signed_in(browser, live_server, user, url: str, ready: str):
    from django.urls import reverse

    from tests import factories

    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    tab = context.new_page()
    tab.errors, tab.requests = [], []
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.on("request", lambda request: tab.requests.append((request.method, request.url, request.post_data_buffer or b"")))
    tab.goto(f"{reverse('accounts:login')}?next={url}")
    tab.fill("#id_username", user.username)
    tab.fill("#id_password", factories.PASSWORD)
    tab.click("form[action$='/login/'] button[type=submit]")
    tab.wait_for_url(f"**{url}")
    tab.wait_for_function(ready, timeout=10_000)
    return context, tab


@pytest.mark.django_db(transaction=True)
def test_a_member_makes_a_key_on_the_keys_page_and_signs_the_report_on_the_report_page(browser, live_server, eval_world, tmp_path):
    from bidding import keyfile
    from evaluation.models import ExpertKey

    rep = reporting(eval_world, with_keys=False)
    member = rep.members[1]
    context, tab = signed_in(browser, live_server, member.user, "/evaluation/keys/", "document.body.dataset.expertKeys === 'ready'")
    try:
        assert tab.is_disabled("#register-key")
        tab.fill("#new-passphrase", PAGE_PASSPHRASE)
        tab.fill("#new-passphrase-again", PAGE_PASSPHRASE)
        tab.click("#create-key-file")
        tab.wait_for_selector("#created:not([hidden])", timeout=60_000)
        assert tab.is_disabled("#register-key")  # download first
        with tab.expect_download() as download:
            tab.click("#key-file-download")
        data = download.value.path().read_bytes()
        key_path = tmp_path / "expert-keys.json"
        key_path.write_bytes(data)
        public = keyfile.load_public(data)
        tab.wait_for_selector("#register-key:not([disabled])")
        with tab.expect_navigation():
            tab.click("#register-key")
        tab.wait_for_function("document.body.dataset.expertKeys === 'ready'")
        key = ExpertKey.objects.get(user=member.user, revoked_at__isnull=True)
        assert key.fingerprint == public.fingerprints.signing
        assert key.fingerprint in tab.text_content("#active-fingerprint")

        report = report_draft(by=rep.by(rep.chair), session=rep.session)
        url = f"/evaluation/lots/{rep.session.lot_id}/report/"
        tab.goto(url)
        tab.wait_for_function("document.body.dataset.reportSign === 'ready'", timeout=10_000)
        tab.set_input_files("#sign-key-file", str(key_path))
        tab.fill("#sign-passphrase", PAGE_PASSPHRASE + "x")
        tab.click("#sign-button")
        tab.wait_for_function("document.getElementById('sign-status').className.includes('error')", timeout=60_000)
        assert not ReportSignature.objects.exists()
        tab.fill("#sign-passphrase", PAGE_PASSPHRASE)
        with tab.expect_navigation(timeout=60_000):
            tab.click("#sign-button")
        signature = ReportSignature.objects.get(report=report)
        assert signature.member == member and signature.key == key
        assert "已签名" in tab.text_content("#answers") and tab.locator("#sign-card").count() == 0
        # nothing secret left the page: neither the passphrase nor the private keys
        keys = keyfile.unlock(data, PAGE_PASSPHRASE)
        secrets = [keyfile._b64e(keyfile._int32(k.private_numbers().private_value)).encode() for k in (keys.signing, keys.decryption)]
        secrets += [PAGE_PASSPHRASE.encode("utf-8"), b'"d"']
        for _method, sent_url, body in tab.requests:
            assert not any(secret in body or secret.decode() in sent_url for secret in secrets), sent_url
        assert not tab.errors, tab.errors
    finally:
        context.close()
