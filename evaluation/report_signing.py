"""A member's signature of the evaluation report, as a specification (no Django).

What is signed is the same as for the opening record (opening/record_signing.py): the ASCII text
of the report's statement hash (64 lowercase hex digits), with ECDSA P-256 / SHA-256 and the
member's registered expert key (evaluation.ExpertKey). The browser (WebCrypto) produces the
signature as raw r ‖ s (64 bytes); OpenSSL (`printf %s <hash> | openssl dgst -sha256 -sign
key.pem`) produces DER. Both are accepted, as base64 (standard or URL-safe, padding optional);
the platform stores the DER form, base64-encoded (ReportSignature.signature).
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from opening import record_signing

MAX_SIGNATURE_B64 = 200
_B64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


class BadSignature(ValueError):
    """Not a signature in a form this module reads."""


def decode(signature_b64: str) -> bytes:
    """The raw r ‖ s (64 bytes) of a base64 signature given raw or DER. BadSignature otherwise."""
    if not isinstance(signature_b64, str) or not signature_b64 or len(signature_b64) > MAX_SIGNATURE_B64:
        raise BadSignature("the signature must be base64 text")
    text = signature_b64.strip()
    if not _B64.fullmatch(text):
        raise BadSignature("the signature must be base64 text")
    text = text.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise BadSignature("the signature must be base64 text") from None
    if len(raw) == record_signing.SIGNATURE_SIZE:
        return raw
    try:
        r, s = decode_dss_signature(raw)
    except ValueError:
        raise BadSignature("the signature is neither raw r||s (64 bytes) nor DER") from None
    if r.bit_length() > 256 or s.bit_length() > 256:
        raise BadSignature("the signature's r or s is too large for P-256")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def der_b64(raw: bytes) -> str:
    """The stored form: base64 of the DER encoding of raw r ‖ s."""
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    return base64.b64encode(encode_dss_signature(r, s)).decode("ascii")


def verify(public_key: ec.EllipticCurvePublicKey, hash_hex: str, signature_b64: str) -> bool:
    """True if `signature_b64` (raw or DER, base64) is `public_key`'s signature of the hash."""
    try:
        raw = decode(signature_b64)
    except BadSignature:
        return False
    return record_signing.verify(public_key, hash_hex, raw)


def sign(private_key: ec.EllipticCurvePrivateKey, hash_hex: str) -> str:
    """A member's signature (base64 of raw r ‖ s, as the browser sends it). The platform never
    calls this; tests and a member's own script do."""
    der = private_key.sign(record_signing.signed_message(hash_hex), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode("ascii")
