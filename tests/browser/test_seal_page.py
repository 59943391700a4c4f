"""The sealer page end to end, in Chromium against the live platform: a registered bidder signs in,
fills in the opening summary (the capital numerals are checked against the figures as typed),
chooses two documents and its key file, seals and uploads in one click, and sees the signed
receipt. Then the platform's stored bid is opened in Python with the bidder's key
(bidding.sealing.open_sealed) and its ZIP passes bidding.bidpack.verify_pack with the same summary.

A second test resumes: an upload of a sealed file was interrupted after its first chunk; the
bidder chooses the saved file on the page, which sends only the missing chunks (one of them
failing once on the network and sent again) and finalises."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.urls import reverse

from bidding import bidpack, keyfile, sealing, services
from bidding.models import Bid, BidStatus, BidUpload
from bidding.services.bids import bid_storage
from tests import factories
from tests.factories import actor, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSPHRASE = "an offline passphrase 2026"
SUMMARY = {
    "price_fen": 123456789,
    "price_capital": "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分",
    "duration_days": 180,
    "quality": "合格",
    "project_manager": {"name": "张三", "certificate": "粤144123456789"},
}
DOCUMENTS = {"技术标.pdf": b"%PDF-1.7 technical proposal " * 4000, "报价清单.xlsx": bytes(range(256)) * 300}


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_sync_playwright():
    """While Playwright's sync API is started (the module's `browser`), this thread has a running
    event loop, and Django refuses ORM calls from a thread with one. The calls of these tests (and
    of pytest-django's flushes) are ordinary synchronous ones, one at a time, so Django's guard is
    lifted before the browser starts and put back after it stops (autouse comes first in a scope)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture
def world(tmp_path):
    tender = factories.make_tender(person("tenderer"), state="published", lots=2)
    bidder = factories.register_bidder(tender)
    data = keyfile.generate(PASSPHRASE, iterations=1000, label="投标密钥")
    public = keyfile.load_public(data)
    services.bidder_key_register(
        by=actor(bidder), decryption_jwk=keyfile.public_jwk(public.decryption), signing_jwk=keyfile.public_jwk(public.signing)
    )
    key_path = tmp_path / "keys.json"
    key_path.write_bytes(data)
    folder = tmp_path / "documents"
    folder.mkdir()
    for name, content in DOCUMENTS.items():
        (folder / name).write_bytes(content)
    lot = tender.lots.order_by("number").last()
    return {"tender": tender, "lot": lot, "bidder": bidder, "key_file": data, "key_path": key_path, "folder": folder, "public": public}


@pytest.fixture
def signed_in(browser, live_server, world):
    """A page of a browser signed in as the registered bidder, on the lot's sealer page."""
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    seal_url = reverse("bidding:seal", args=[world["lot"].pk])
    page.goto(f"{reverse('accounts:login')}?next={seal_url}")
    page.fill("#id_username", world["bidder"].username)
    page.fill("#id_password", factories.PASSWORD)
    page.click("form[action$='/login/'] button[type=submit]")
    page.wait_for_url(f"**{seal_url}")
    page.wait_for_function("document.body.dataset.sealPage === 'ready'", timeout=10_000)
    yield page
    context.close()
    assert not errors, f"uncaught errors on the page: {errors}"


def expected_summary(world) -> dict:
    lot, bidder = world["lot"], world["bidder"]
    return {"tender": str(lot.tender_id), "lot": str(lot.pk), "bidder": bidder.organisation.credit_code, **SUMMARY}


def open_stored_bid(world, bid: Bid) -> bytes:
    """The bid as the platform stores it, opened with the bidder's own key: the bid package."""
    keys = keyfile.unlock(world["key_file"], PASSPHRASE)
    binding = sealing.Binding(tender=str(bid.lot.tender_id), lot=str(bid.lot_id), bidder=str(bid.bidder_id))
    with bid_storage().open(bid.storage_name, "rb") as stored:
        header, _ = sealing.read_header(stored)
        stored.seek(0)
        plaintext = io.BytesIO()
        sealing.open_sealed(
            stored, plaintext, data_key=sealing.unwrap_data_key(header, keys.decryption),
            signing_public_key=keys.public.signing, expected_binding=binding,
        )
    return plaintext.getvalue()


def test_a_registered_bidder_seals_and_uploads_in_the_browser_and_the_opening_can_read_it(signed_in, world):
    page = signed_in
    page.fill("#price-yuan", "1234567.89")
    assert page.text_content("#price-fen").strip().endswith("123456789 分")
    page.fill("#price-capital", "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角")  # 分 forgotten: checked as typed
    assert page.get_attribute("#price-capital-check", "class") == "check-error"
    assert "不符" in page.text_content("#price-capital-check") and SUMMARY["price_capital"] in page.text_content("#price-capital-check")
    page.fill("#price-capital", SUMMARY["price_capital"])
    assert page.get_attribute("#price-capital-check", "class") == "check-ok"
    page.fill("#duration-days", "180")
    page.fill("#quality", SUMMARY["quality"])
    page.fill("#pm-name", SUMMARY["project_manager"]["name"])
    page.fill("#pm-certificate", SUMMARY["project_manager"]["certificate"])
    page.set_input_files("#documents", [world["folder"] / name for name in DOCUMENTS])
    assert page.locator("#document-list tbody tr").count() == 2

    page.set_input_files("#key-file", world["key_path"])
    page.fill("#passphrase", "not the passphrase")
    page.click("#unlock")
    page.wait_for_function("document.getElementById('key-status').className === 'check-error'")
    assert "口令不正确" in page.text_content("#key-status")
    page.fill("#passphrase", PASSPHRASE)
    page.click("#unlock")
    page.wait_for_function("document.getElementById('key-status').className === 'check-ok'", timeout=20_000)
    fingerprints = world["public"].fingerprints
    assert page.text_content("#file-decryption-fingerprint").replace(" ", "") == fingerprints.decryption
    assert page.text_content("#file-signing-fingerprint").replace(" ", "") == fingerprints.signing

    page.click("#seal-and-upload")
    page.wait_for_selector("#receipt:not([hidden])", timeout=60_000)
    bid = Bid.objects.get(lot=world["lot"], bidder=world["bidder"].organisation)
    assert bid.status == BidStatus.RECEIVED and bid.version == 1
    assert page.text_content("#receipt-version").strip() == "1"
    assert page.text_content("#receipt-sha256").strip() == bid.sha256 == bid.receipt["statement"]["sealed_sha256"]
    assert "message success" == page.get_attribute("#receipt-note", "class")  # the receipt's signature checked out
    assert page.get_attribute("#receipt-pdf", "href") == reverse("api-bid-receipt-pdf", args=[bid.pk])
    assert page.is_hidden("#retry-upload") and page.is_visible("#sealed-download-link")
    for bar in ("pack", "seal", "upload"):
        assert page.eval_on_selector(f"#{bar}-progress", "bar => bar.value === bar.max && bar.max > 1")

    # The sealed file offered for download is the file the platform received.
    with page.expect_download() as download:
        page.click("#sealed-download-link")
    assert hashlib.sha256(download.value.path().read_bytes()).hexdigest() == bid.sha256

    # The opening: the platform's copy opens with the bidder's key to the package bidpack accepts.
    package = open_stored_bid(world, bid)
    summary = bidpack.verify_pack(io.BytesIO(package))
    assert {key: getattr(summary, key) for key in ("tender", "lot", "bidder", "price_fen", "price_capital", "duration_days", "quality")} == {
        key: value for key, value in expected_summary(world).items() if key != "project_manager"
    }
    assert (summary.project_manager_name, summary.project_manager_certificate) == ("张三", "粤144123456789")
    assert not summary.flags and summary.prevailing_price_fen == SUMMARY["price_fen"]
    assert {d.path: d.sha256 for d in summary.documents} == {name: hashlib.sha256(content).hexdigest() for name, content in DOCUMENTS.items()}
    # Byte for byte what the bid tool packs from the same folder and summary.
    out = io.BytesIO()
    bidpack.pack(world["folder"], expected_summary(world), out)
    assert package == out.getvalue()


def test_an_interrupted_upload_is_resumed_from_the_saved_sealed_file(signed_in, world, settings, tmp_path):
    chunk = settings.PLATFORM_BID_CHUNK_BYTES = 32 * 1024
    lot, bidder = world["lot"], world["bidder"]
    package = io.BytesIO()
    bidpack.pack(world["folder"], expected_summary(world), package)
    package.seek(0)
    keys = keyfile.unlock(world["key_file"], PASSPHRASE)
    sealed_path = tmp_path / "bid.sealed"
    with open(sealed_path, "wb") as out:
        sealing.seal(package, out, recipient_public_key=keys.public.decryption, signing_private_key=keys.signing,
                     binding=sealing.Binding(tender=str(lot.tender_id), lot=str(lot.pk), bidder=str(bidder.organisation_id)))
    sealed = sealed_path.read_bytes()
    assert len(sealed) > 5 * chunk
    with open(sealed_path, "rb") as f:
        sealing.read_header(f)
        prefix = sealed[: f.tell()]
    # The first run stopped after the first chunk.
    upload, _ = services.bid_upload_create(by=actor(bidder), lot=lot, size=len(sealed), header_prefix=prefix)
    first = sealed[:chunk]
    services.bid_upload_put_chunk(by=actor(bidder), upload=upload, content_range=f"bytes 0-{len(first) - 1}/{len(sealed)}",
                                  body=io.BytesIO(first), declared_length=len(first))

    page = signed_in
    page.reload()
    page.wait_for_function("document.body.dataset.sealPage === 'ready'")
    page.wait_for_selector(f"#open-uploads li[data-header-sha256='{upload.header_sha256}']")

    sent, failed = [], []

    def flaky(route, request):
        if request.method == "PUT":
            span = request.headers["content-range"]
            if span.startswith(f"bytes {3 * chunk}-") and not failed:
                failed.append(span)
                route.abort("connectionreset")
                return
            sent.append(span)
        route.continue_()

    page.route("**/api/v1/bid-uploads/*/", flaky)
    page.set_input_files("#resume-file", sealed_path)
    page.wait_for_selector("#receipt:not([hidden])", timeout=60_000)

    assert failed and all(not span.startswith("bytes 0-") for span in sent)  # only what was missing
    chunks = -(-len(sealed) // chunk)
    assert len(sent) == chunks - 1 and failed[0] in sent  # the failed chunk was sent again
    upload.refresh_from_db()
    bid = Bid.objects.get(lot=lot, bidder=bidder.organisation)
    assert upload.status == "accepted" and upload.bid_id == bid.pk and BidUpload.objects.filter(lot=lot).count() == 1
    assert bid.sha256 == hashlib.sha256(sealed).hexdigest() == page.text_content("#receipt-sha256").strip()
    assert bidpack.verify_pack(io.BytesIO(open_stored_bid(world, bid))).price_fen == SUMMARY["price_fen"]

    # The same file chosen again is not a second bid: the page shows the receipt it already has.
    page.set_input_files("#resume-file", sealed_path)
    page.wait_for_function("document.getElementById('receipt-note').textContent.includes('此前已经递交')", timeout=30_000)
    assert Bid.objects.filter(lot=lot).count() == 1 and page.text_content("#receipt-sha256").strip() == bid.sha256


def test_a_key_file_that_is_not_the_registered_one_is_flagged_before_sealing(signed_in, tmp_path):
    page = signed_in
    other = tmp_path / "other-keys.json"
    other.write_bytes(keyfile.generate(PASSPHRASE, iterations=1000))
    page.set_input_files("#key-file", other)
    page.wait_for_function("document.getElementById('key-status').className === 'check-error'")
    assert "不是贵单位当前登记的有效密钥" in page.text_content("#key-status")
    assert page.get_attribute("#file-signing-fingerprint", "class") == "hash mismatch"
    page.fill("#passphrase", PASSPHRASE)
    page.click("#unlock")
    page.wait_for_function("document.getElementById('key-status').textContent.includes('不是贵单位')")
    assert page.get_attribute("#key-status", "class") == "check-error"
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "etender-bidder-keys"}')
    page.set_input_files("#key-file", broken)
    page.wait_for_function("document.getElementById('key-status').textContent.includes('不是有效的投标密钥文件')")
    assert page.text_content("#file-decryption-fingerprint") == "—"

