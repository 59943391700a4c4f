"""Signing the opening record in the browser (static/js/opening/record_sign.js signRecordHash)
against the platform's check (opening/record_signing.py verify): a signature the page makes with
the key file's signing key verifies in Python, and one made on a real record is accepted by the
confirmation service; another key's signature is not; a malformed hash is refused in the page.

The page is tests/browser/sealbid.html; the module is imported into it."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from bidding import keyfile
from config.errors import DomainError
from opening import record_signing, services
from tests.factories import actor
from tests.opening.records import decrypted
from tests.opening.world import clock, dummy_tasks, world  # noqa: F401

pytestmark = pytest.mark.browser

PASSPHRASE = "开标记录签名 test passphrase"

SIGN = """async ([text, passphrase, hashHex]) => {
    const { openKeyFile } = await import("/static/js/sealbid/keyfile.js");
    const { signRecordHash } = await import("/static/js/opening/record_sign.js");
    try {
        const keys = await openKeyFile(text, passphrase);
        return await signRecordHash(keys, hashHex);
    } catch (error) { return "error:" + error.name; }
}"""


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_sync_playwright():
    """The service test uses the ORM while Playwright's sync API runs in this thread (as in
    tests/browser/test_keyfile_create.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


def key_file_of(decryption: ec.EllipticCurvePrivateKey, signing: ec.EllipticCurvePrivateKey) -> str:
    """A key file holding the given keys (the bid tool's layout), with a small iteration count."""
    data = keyfile._seal(
        keyfile._passphrase_bytes(PASSPHRASE), decryption=decryption, signing=signing, label="record test",
        created=datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        iterations=1000, salt=os.urandom(keyfile.SALT_BYTES), nonce=os.urandom(keyfile.NONCE_BYTES),
    )
    return data.decode("utf-8")


def test_a_browser_signature_of_the_record_hash_verifies_in_python(page):
    signing = ec.generate_private_key(ec.SECP256R1())
    text = key_file_of(ec.generate_private_key(ec.SECP256R1()), signing)
    digest = hashlib.sha256(b"statement").hexdigest()
    signature = page.evaluate(SIGN, [text, PASSPHRASE, digest])
    assert len(signature) == 128
    assert record_signing.verify(signing.public_key(), digest, bytes.fromhex(signature))
    assert not record_signing.verify(ec.generate_private_key(ec.SECP256R1()).public_key(), digest, bytes.fromhex(signature))
    assert not record_signing.verify(signing.public_key(), hashlib.sha256(b"other").hexdigest(), bytes.fromhex(signature))
    # what the page signs is the hash's ASCII text, as in Python
    assert page.evaluate("""async (h) => {
        const m = await import("/static/js/opening/record_sign.js");
        return Array.from(m.signedMessage(h));
    }""", digest) == list(record_signing.signed_message(digest))


def test_a_malformed_hash_is_refused_in_the_page(page):
    text = key_file_of(ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1()))
    assert page.evaluate(SIGN, [text, PASSPHRASE, "AB" * 32]) == "error:RangeError"
    assert page.evaluate(SIGN, [text, PASSPHRASE, "ab" * 31]) == "error:RangeError"


@pytest.mark.django_db
def test_a_bidder_confirms_a_real_record_with_a_signature_made_in_the_browser(page, world):
    session = decrypted(world)
    record = services.opening_record_draft(by=actor(world.host), session=session)
    first, second = world.bidders[:2]
    foreign = page.evaluate(SIGN, [key_file_of(second.decryption, second.signing), PASSPHRASE, record.statement_sha256])
    with pytest.raises(DomainError) as refused:
        services.opening_record_confirm(by=actor(first.user), session=session, signature=bytes.fromhex(foreign))
    assert refused.value.code == "bad_signature"
    signature = page.evaluate(SIGN, [key_file_of(first.decryption, first.signing), PASSPHRASE, record.statement_sha256])
    confirmation = services.opening_record_confirm(by=actor(first.user), session=session, signature=bytes.fromhex(signature))
    assert confirmation.signature == signature and confirmation.key_fingerprint == keyfile.fingerprint(first.signing.public_key())

