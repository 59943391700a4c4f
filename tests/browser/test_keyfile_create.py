"""Key files written in the browser (static/js/sealbid/keyfile.js createKeyFile) against the Python
reference (bidding/keyfile.py): the test vector rebuilt byte for byte from its fixed inputs, a new
file unlocked by the bid tool's code to the keys whose fingerprints the browser reported, and every
passphrase, iteration count and label refused exactly when keyfile.generate refuses it.

The page is tests/browser/sealbid.html (harness.js puts the modules on `window.sb`)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from bidding import keyfile

pytestmark = pytest.mark.browser

VECTOR = json.loads((Path(keyfile.__file__).parent / "vectors" / "keyfile-v1.json").read_text("utf-8"))
PASSPHRASE = "浏览器里创建的口令 browser 2026"


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_sync_playwright():
    """The module's live-server tests use the ORM while Playwright's sync API runs in this thread
    (see tests/browser/test_seal_page.py): Django's async guard is lifted before the browser starts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


def create(page, passphrase, **options) -> str:
    """createKeyFile in the page: the file's text, or 'error:<code or name>'."""
    return page.evaluate(
        """async ([passphrase, options]) => {
            try { return await sb.keyfile.createKeyFile(passphrase, options); }
            catch (error) { return "error:" + (error.code || error.name); }
        }""",
        [passphrase, options],
    )


def python_outcome(passphrase, **options) -> str:
    try:
        keyfile.generate(passphrase, **options)
    except keyfile.KeyFileError as error:
        return "error:" + error.code
    except (TypeError, ValueError) as error:
        return "error:" + type(error).__name__
    return "ok"


def test_the_browser_rebuilds_the_test_vector_byte_for_byte(page):
    inputs = VECTOR["inputs"]
    text = create(
        page, inputs["passphrase"], label=inputs["label"], iterations=inputs["iterations"], created=inputs["created"],
        decryptionScalar=inputs["decryption_d_hex"], signingScalar=inputs["signing_d_hex"], salt=inputs["salt_hex"], nonce=inputs["nonce_hex"],
    )
    python = keyfile._seal(
        keyfile._passphrase_bytes(inputs["passphrase"]),
        decryption=ec.derive_private_key(int(inputs["decryption_d_hex"], 16), ec.SECP256R1()),
        signing=ec.derive_private_key(int(inputs["signing_d_hex"], 16), ec.SECP256R1()),
        label=inputs["label"], created=inputs["created"], iterations=inputs["iterations"],
        salt=bytes.fromhex(inputs["salt_hex"]), nonce=bytes.fromhex(inputs["nonce_hex"]),
    )
    assert text.encode("utf-8") == python
    assert json.loads(text) == VECTOR["keyfile"]
    assert keyfile._parse(text.encode("utf-8")).associated_data.decode("utf-8") == VECTOR["intermediate"]["associated_data"]
    # Fixed inputs as bytes instead of hex give the same file.
    again = page.evaluate(
        """async (i) => sb.keyfile.createKeyFile(i.passphrase, {
            label: i.label, iterations: i.iterations, created: i.created,
            decryptionScalar: BigInt("0x" + i.decryption_d_hex), signingScalar: sb.sha256.fromHex(i.signing_d_hex),
            salt: sb.sha256.fromHex(i.salt_hex), nonce: sb.sha256.fromHex(i.nonce_hex) })""",
        inputs,
    )
    assert again == text


def test_a_browser_made_key_file_unlocks_in_python_to_the_keys_the_browser_reported(page):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    result = page.evaluate(
        """async (passphrase) => {
            const text = await sb.keyfile.createKeyFile(passphrase, { label: "投标人 laptop 2", iterations: 1000 });
            const opened = await sb.keyfile.openKeyFile(text, passphrase);
            const part = sb.keyfile.readPublicPart(text);
            return { text, fingerprints: { decryption: part.decryption.fingerprint, signing: part.signing.fingerprint },
                     reopened: { decryption: opened.decryption.fingerprint, signing: opened.signing.fingerprint },
                     extractable: [opened.decryption.privateKey.extractable, opened.signing.privateKey.extractable] };
        }""",
        PASSPHRASE,
    )
    data = result["text"].encode("utf-8")
    keys = keyfile.unlock(data, PASSPHRASE)
    fingerprints = {"decryption": keyfile.fingerprint(keys.decryption.public_key()), "signing": keyfile.fingerprint(keys.signing.public_key())}
    assert fingerprints == result["fingerprints"] == result["reopened"]
    assert fingerprints["decryption"] != fingerprints["signing"]
    assert isinstance(keys.decryption.curve, ec.SECP256R1) and isinstance(keys.signing.curve, ec.SECP256R1)
    assert result["extractable"] == [False, False]
    # The layout the bid tool writes, and its fields.
    document = json.loads(data)
    assert data == (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    assert document["label"] == keys.public.label == "投标人 laptop 2"
    assert document["kdf"]["iterations"] == 1000
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["created"])
    assert before - timedelta(seconds=5) <= keys.public.created <= datetime.now(timezone.utc) + timedelta(seconds=5)
    assert len(keyfile._parse(data).salt) == keyfile.SALT_BYTES
    # Python can also sign and agree with the keys the browser made.
    keys.signing.sign(b"header", ec.ECDSA(keyfile.hashes.SHA256()))
    keys.decryption.exchange(ec.ECDH(), ec.generate_private_key(ec.SECP256R1()).public_key())


def test_every_file_has_fresh_keys_salt_and_nonce_and_real_ones_use_600000_iterations(page):
    texts = [create(page, PASSPHRASE), create(page, PASSPHRASE, iterations=1000)]
    documents = [json.loads(text) for text in texts]
    assert documents[0]["kdf"]["iterations"] == keyfile.DEFAULT_ITERATIONS == 600_000
    assert documents[0]["label"] == ""
    fresh = [
        (d["public"]["fingerprints"]["decryption"], d["public"]["fingerprints"]["signing"], d["kdf"]["salt"], d["aead"]["nonce"]) for d in documents
    ]
    assert all(first != second for first, second in zip(*fresh))
    assert keyfile.unlock(texts[0].encode("utf-8"), PASSPHRASE).public.fingerprints.signing == documents[0]["public"]["fingerprints"]["signing"]


LONE_SURROGATE = "\ud800"
PASSPHRASES = [
    "",
    "short",
    "elevenchars",  # 11
    "twelve chars",  # 12: the shortest accepted
    "口令口令口令口令口令口",  # 11 CJK characters (33 UTF-8 bytes): too short
    "口令口令口令口令口令口令",  # 12
    "e\u0301" * 11,  # 22 code points, but 11 after NFC
    "e\u0301" * 12,  # 12 after NFC
    "\U0001f511" * 11,  # 11 astral characters (22 UTF-16 units)
    "\U0001f511" * 12,
    "a" * 12 + LONE_SURROGATE,  # not text
    LONE_SURROGATE * 20,
    "   tab\tand newline\n ",
]


@pytest.mark.parametrize("passphrase", PASSPHRASES, ids=range(len(PASSPHRASES)))
def test_weak_passphrases_are_refused_exactly_as_python_refuses_them(page, passphrase):
    # Strings cross to the page as lists of UTF-16 code units, so lone surrogates arrive intact.
    units = list(passphrase.encode("utf-16-le", "surrogatepass"))
    units = [units[i] | units[i + 1] << 8 for i in range(0, len(units), 2)]
    browser = page.evaluate(
        """async (units) => {
            const passphrase = String.fromCharCode(...units);
            let check;
            try { sb.keyfile.checkNewPassphrase(passphrase); check = "ok"; } catch (error) { check = "error:" + error.code; }
            try { await sb.keyfile.createKeyFile(passphrase, { iterations: 1000 }); return [check, "ok"]; }
            catch (error) { return [check, "error:" + (error.code || error.name)]; }
        }""",
        units,
    )
    expected = python_outcome(passphrase, iterations=1000)
    assert browser == [expected, expected]
    if expected != "ok":
        assert expected == "error:weak_passphrase"


@pytest.mark.parametrize("options,python", [
    ({"iterations": 999}, "ValueError"),
    ({"iterations": 10_000_001}, "ValueError"),
    ({"iterations": 1000.5}, "TypeError"),
    ({"iterations": "1000"}, "TypeError"),
    ({"label": "x" * 201}, "ValueError"),
    ({"label": "line\nbreak"}, "ValueError"),
    ({"label": "x" * 200}, "ok"),
    ({"label": "测试" * 100}, "ok"),
])
def test_bad_iteration_counts_and_labels_are_refused_as_python_refuses_them(page, options, python):
    options = {"iterations": 1000, **options}
    assert python_outcome(PASSPHRASE, **options) == ("ok" if python == "ok" else "error:" + python)
    browser = create(page, PASSPHRASE, **options)
    js = {"ValueError": "error:RangeError", "TypeError": "error:TypeError"}
    if python == "ok":
        assert keyfile.load_public(browser.encode("utf-8")).label == options["label"]
    else:
        assert browser == js[python]
    # A weak passphrase is reported first, as in Python.
    assert create(page, "short", **options) == "error:weak_passphrase" == python_outcome("short", **options)


# --- the keys page on the live platform ------------------------------------------------------------

KEYS_PASSPHRASE = "密钥页面上的口令 keys page 2026"


@pytest.fixture
def bidder(db):
    from tests.factories import person

    return person("bidder")


@pytest.fixture
def keys_page(browser, live_server, bidder):
    """A browser signed in as the bidder, on /bidding/keys/, with every request it sends recorded."""
    from django.urls import reverse

    from tests import factories

    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    tab = context.new_page()
    errors, requests = [], []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("request", lambda request: requests.append((request.method, request.url, request.post_data_buffer or b"")))
    keys_url = reverse("bidding:keys")
    tab.goto(f"{reverse('accounts:login')}?next={keys_url}")
    tab.fill("#id_username", bidder.username)
    tab.fill("#id_password", factories.PASSWORD)
    tab.click("form[action$='/login/'] button[type=submit]")
    tab.wait_for_url(f"**{keys_url}")
    tab.wait_for_function("document.body.dataset.keysPage === 'ready'", timeout=10_000)
    tab.requests = requests
    yield tab
    context.close()
    assert not errors, f"uncaught errors on the page: {errors}"


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def shown_fingerprints(tab, prefix="pending") -> dict:
    texts = {role: tab.text_content(f"#{prefix}-{role}-fingerprint").strip() for role in ("decryption", "signing")}
    for text in texts.values():
        assert re.fullmatch(r"([0-9a-f]{4} ){15}[0-9a-f]{4}", text), text  # 4-character blocks
    return {role: text.replace(" ", "") for role, text in texts.items()}


def active_fingerprints(organisation) -> dict:
    from bidding.models import BidderKey, KeyStatus

    return {key.purpose: key.fingerprint for key in BidderKey.objects.filter(organisation=organisation, status=KeyStatus.ACTIVE)}


def blocks(fingerprint: str) -> str:
    return " ".join(fingerprint[i : i + 4] for i in range(0, 64, 4))


@pytest.mark.django_db(transaction=True)
def test_a_bidder_creates_downloads_and_registers_a_key_file_on_the_keys_page(keys_page, bidder):
    from zoneinfo import ZoneInfo

    tab = keys_page
    assert tab.is_hidden("#rotation-warning") and tab.is_disabled("#register-keys")
    tab.fill("#new-label", "华建 投标电脑")
    # The passphrase rule is the bid tool's, shown while typing and enforced on the button.
    tab.fill("#new-passphrase", "too short")
    assert tab.get_attribute("#passphrase-check", "class") == "check-error" and "12" in tab.text_content("#passphrase-check")
    tab.fill("#new-passphrase-again", "too short")
    tab.click("#create-key-file")
    assert tab.get_attribute("#create-status", "class") == "check-error" and tab.is_hidden("#created")
    tab.fill("#new-passphrase", KEYS_PASSPHRASE)
    assert tab.get_attribute("#passphrase-check", "class") == "check-ok"
    tab.fill("#new-passphrase-again", KEYS_PASSPHRASE + "!")
    tab.click("#create-key-file")
    assert "不一致" in tab.text_content("#create-status") and tab.is_hidden("#created")
    tab.fill("#new-passphrase-again", KEYS_PASSPHRASE)
    tab.click("#create-key-file")
    tab.wait_for_selector("#created:not([hidden])", timeout=60_000)
    assert tab.get_attribute("#create-status", "class") == "check-ok"
    assert tab.input_value("#new-passphrase") == tab.input_value("#new-passphrase-again") == ""
    shown = shown_fingerprints(tab)
    # Registering waits for the download.
    assert tab.is_disabled("#register-keys") and "下载" in tab.text_content("#register-status")
    with tab.expect_download() as download:
        tab.click("#key-file-download")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert download.value.suggested_filename == f"bidder-keys-{bidder.organisation.credit_code}-{today}.json"
    data = download.value.path().read_bytes()
    public = keyfile.load_public(data)
    assert {"decryption": public.fingerprints.decryption, "signing": public.fingerprints.signing} == shown
    assert public.label == "华建 投标电脑" and json.loads(data)["kdf"]["iterations"] == keyfile.DEFAULT_ITERATIONS

    tab.wait_for_selector("#register-keys:not([disabled])")
    tab.click("#register-keys")
    tab.wait_for_selector("#registered-note:not([hidden])", timeout=20_000)
    assert tab.is_hidden("#rotation-confirm")
    assert active_fingerprints(bidder.organisation) == shown
    table = tab.text_content("main")
    assert blocks(shown["decryption"]) in table and blocks(shown["signing"]) in table and "有效" in table
    # The page now knows the keys are in force: another registration would rotate.
    assert tab.is_visible("#rotation-warning")

    # The downloaded file opens with the passphrase in the bid tool, to the registered keys.
    keys = keyfile.unlock(data, KEYS_PASSPHRASE)
    assert keyfile.fingerprint(keys.decryption.public_key()) == shown["decryption"]
    assert keyfile.fingerprint(keys.signing.public_key()) == shown["signing"]
    # Only the two public JWKs went to the platform; no request carried a private key or the passphrase.
    posts = [(url, body) for method, url, body in tab.requests if method == "POST"]
    assert [url.removeprefix(tab.url.split("/bidding/")[0]) for url, _ in posts if "/api/" in url] == ["/api/v1/bidder-keys/"]
    sent = json.loads(next(body for url, body in posts if url.endswith("/api/v1/bidder-keys/")))
    assert sent == {"decryption": keyfile.public_jwk(public.decryption), "signing": keyfile.public_jwk(public.signing)}
    secrets = [keyfile._b64e(keyfile._int32(key.private_numbers().private_value)).encode() for key in (keys.decryption, keys.signing)]
    secrets += [KEYS_PASSPHRASE.encode("utf-8"), b'"d"']
    for _method, url, body in tab.requests:
        assert not any(secret in body or secret.decode() in url for secret in secrets), url


@pytest.mark.django_db(transaction=True)
def test_registering_an_existing_key_file_rotates_only_after_confirmation(keys_page, bidder, tmp_path):
    from bidding import services
    from bidding.models import BidderKey, KeyStatus
    from tests.factories import actor

    old = keyfile.load_public(keyfile.generate(KEYS_PASSPHRASE, iterations=1000))
    services.bidder_key_register(by=actor(bidder), decryption_jwk=keyfile.public_jwk(old.decryption), signing_jwk=keyfile.public_jwk(old.signing))
    new_data = keyfile.generate(KEYS_PASSPHRASE, label="bid tool, laptop 3", iterations=1000)
    new = keyfile.load_public(new_data)
    (tmp_path / "new.json").write_bytes(new_data)
    (tmp_path / "notes.json").write_text('{"format": "something else"}')
    tampered = json.loads(new_data)
    tampered["public"]["fingerprints"]["signing"] = old.fingerprints.signing
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))

    tab = keys_page
    tab.reload()
    tab.wait_for_function("document.body.dataset.keysPage === 'ready'")
    assert tab.is_visible("#rotation-warning") and "请保留旧密钥文件" in tab.text_content("#rotation-warning")
    # Files that are not usable are refused, as the bid tool refuses them.
    tab.set_input_files("#existing-key-file", tmp_path / "notes.json")
    expect(tab.locator("#register-source")).to_contain_text("不是有效的投标密钥文件")
    assert tab.is_disabled("#register-keys")
    tab.set_input_files("#existing-key-file", tmp_path / "tampered.json")
    expect(tab.locator("#register-source")).to_contain_text("已被改动")
    assert tab.is_disabled("#register-keys")

    # Read without a passphrase: the public part only.
    tab.set_input_files("#existing-key-file", tmp_path / "new.json")
    expect(tab.locator("#register-source")).to_contain_text("bid tool, laptop 3")
    assert shown_fingerprints(tab) == {"decryption": new.fingerprints.decryption, "signing": new.fingerprints.signing}
    expected_old = {"decryption": old.fingerprints.decryption, "signing": old.fingerprints.signing}
    tab.click("#register-keys")
    assert tab.is_visible("#rotation-confirm") and "撤销" in tab.text_content("#rotation-confirm")
    assert active_fingerprints(bidder.organisation) == expected_old  # nothing sent before the confirmation
    tab.click("#cancel-rotation")
    assert tab.is_hidden("#rotation-confirm") and active_fingerprints(bidder.organisation) == expected_old
    assert not [url for method, url, _ in tab.requests if method == "POST" and "/api/" in url]

    tab.click("#register-keys")
    tab.click("#confirm-rotation")
    tab.wait_for_selector("#registered-note:not([hidden])", timeout=20_000)
    assert active_fingerprints(bidder.organisation) == {"decryption": new.fingerprints.decryption, "signing": new.fingerprints.signing}
    for purpose in ("decryption", "signing"):
        revoked = BidderKey.objects.get(fingerprint=expected_old[purpose])
        assert revoked.status == KeyStatus.REVOKED and revoked.replaced_by.fingerprint == getattr(new.fingerprints, purpose)
    assert "已轮换" in tab.text_content("main")
    # The file now in force cannot be registered again.
    tab.set_input_files("#existing-key-file", tmp_path / "new.json")
    expect(tab.locator("#register-status")).to_contain_text("已是贵单位的有效密钥")
    assert tab.is_disabled("#register-keys")
