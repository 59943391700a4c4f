"""The opening record's hash and the bidders' signatures over it, as a specification (no Django).

The record statement is a JSON object (built by opening/record_statement.py). Its hash is

    record_sha256 = SHA-256( canonical_json(statement) )         lowercase hex, 64 characters

with the audit trail's canonical JSON (audit/chain.py: keys sorted, no whitespace, UTF-8, no
floats). Anyone holding the statement recomputes it without the PDF.

A bidder confirms the record by signing the ASCII text of that hex hash (64 bytes, lowercase)
with ECDSA P-256 / SHA-256 using its registered signing key; the signature is raw r ‖ s (32 bytes
each, big-endian, 64 bytes), as in the sealed-bid header and as WebCrypto produces it. With
OpenSSL: `printf %s <hash> | openssl dgst -sha256 -sign key.pem` gives the same signature in DER.
"""

from __future__ import annotations

import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from audit.chain import canonical_json

SIGNATURE_SIZE = 64
_HEX_HASH = re.compile(r"[0-9a-f]{64}")
_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def statement_text(statement: dict) -> str:
    """The canonical JSON text the hash is taken over."""
    return canonical_json(statement)


def statement_hash(statement: dict) -> str:
    return hashlib.sha256(statement_text(statement).encode("utf-8")).hexdigest()


def signed_message(hash_hex: str) -> bytes:
    """What a bidder signs: the 64 ASCII characters of the lowercase hex hash."""
    if not isinstance(hash_hex, str) or not _HEX_HASH.fullmatch(hash_hex):
        raise ValueError("the record hash must be 64 lowercase hex digits")
    return hash_hex.encode("ascii")


def sign(private_key: ec.EllipticCurvePrivateKey, hash_hex: str) -> bytes:
    """The bidder's signature of the record hash (raw r ‖ s). The platform never calls this; the
    bidder's browser (static/js/opening/record_sign.js) or its own script does."""
    der = private_key.sign(signed_message(hash_hex), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify(public_key: ec.EllipticCurvePublicKey, hash_hex: str, signature: bytes) -> bool:
    """True if `signature` (raw r ‖ s) is `public_key`'s signature of the record hash."""
    if not isinstance(signature, (bytes, bytearray)) or len(signature) != SIGNATURE_SIZE:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < _ORDER and 0 < s < _ORDER):
        return False
    try:
        public_key.verify(encode_dss_signature(r, s), signed_message(hash_hex), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True
