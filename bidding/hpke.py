"""HPKE (RFC 9180) base mode, single shot, for one suite only:
DHKEM(P-256, HKDF-SHA256) = 0x0010, HKDF-SHA256 = 0x0001, AES-256-GCM = 0x0002.

Built from the standard primitives in `cryptography` (ECDH on P-256, HMAC-SHA256 for
HKDF-Extract, HKDF-Expand, AES-GCM) rather than its `hpke.Suite`, because the sealed-bid test
vectors need a fixed ephemeral key, and because the browser builds the very same steps from
WebCrypto. Each function names the RFC 9180 section it implements; tests/bidding/test_hpke.py
proves them against the official CFRG vector for this suite. Imports nothing from Django.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

KEM_ID, KDF_ID, AEAD_ID = 0x0010, 0x0001, 0x0002
MODE_BASE = 0x00
N_SECRET, N_ENC, N_PK = 32, 65, 65  # DHKEM(P-256) sizes, RFC 9180 section 7.1
N_K, N_N, N_H = 32, 12, 32  # AES-256-GCM key and nonce, SHA-256 output
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

KEM_SUITE_ID = b"KEM" + KEM_ID.to_bytes(2, "big")


class HPKEError(ValueError):
    """Decapsulation or opening failed: wrong key, or the ciphertext was altered."""


def labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    """LabeledExtract, section 4: HKDF-Extract(salt, "HPKE-v1" || suite_id || label || ikm)."""
    # HKDF-Extract is HMAC with the salt as key; an empty salt means HashLen zero bytes (RFC 5869).
    mac = hmac.HMAC(salt or bytes(N_H), hashes.SHA256())
    mac.update(b"HPKE-v1" + suite_id + label + ikm)
    return mac.finalize()


def labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    """LabeledExpand, section 4: HKDF-Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L)."""
    labeled_info = length.to_bytes(2, "big") + b"HPKE-v1" + suite_id + label + info
    return HKDFExpand(hashes.SHA256(), length, labeled_info).derive(prk)


def serialize_public_key(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """SerializePublicKey, section 7.1.1: the 65-byte uncompressed point."""
    return public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def deserialize_public_key(data: bytes) -> ec.EllipticCurvePublicKey:
    """DeserializePublicKey, section 7.1.1; refuses anything but a valid uncompressed P-256 point."""
    if len(data) != N_PK or data[0] != 0x04:
        raise HPKEError("not an uncompressed P-256 point")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data)
    except ValueError as exc:
        raise HPKEError("not a point on P-256") from exc


def derive_key_pair(ikm: bytes) -> ec.EllipticCurvePrivateKey:
    """DeriveKeyPair for P-256, section 7.1.3 (rejection sampling with bitmask 0xff)."""
    dkp_prk = labeled_extract(KEM_SUITE_ID, b"", b"dkp_prk", ikm)
    for counter in range(256):
        candidate = labeled_expand(KEM_SUITE_ID, dkp_prk, b"candidate", bytes([counter]), 32)
        scalar = int.from_bytes(candidate, "big")
        if 0 < scalar < P256_ORDER:
            return ec.derive_private_key(scalar, ec.SECP256R1())
    raise HPKEError("DeriveKeyPairError")  # probability about 2^-8192; the RFC still says to fail


def _extract_and_expand(dh: bytes, kem_context: bytes) -> bytes:
    """ExtractAndExpand of DHKEM, section 4.1."""
    eae_prk = labeled_extract(KEM_SUITE_ID, b"", b"eae_prk", dh)
    return labeled_expand(KEM_SUITE_ID, eae_prk, b"shared_secret", kem_context, N_SECRET)


def encap(pk_r: ec.EllipticCurvePublicKey, sk_e: ec.EllipticCurvePrivateKey) -> tuple[bytes, bytes]:
    """Encap, section 4.1, with the ephemeral key given (fresh random in use, fixed in vectors).
    Returns (shared_secret, enc)."""
    dh = sk_e.exchange(ec.ECDH(), pk_r)  # the 32-byte x coordinate, as the RFC's DH() for P-256
    enc = serialize_public_key(sk_e.public_key())
    return _extract_and_expand(dh, enc + serialize_public_key(pk_r)), enc


def decap(enc: bytes, sk_r: ec.EllipticCurvePrivateKey) -> bytes:
    """Decap, section 4.1."""
    pk_e = deserialize_public_key(enc)
    dh = sk_r.exchange(ec.ECDH(), pk_e)
    return _extract_and_expand(dh, enc + serialize_public_key(sk_r.public_key()))


@dataclass(frozen=True)
class Context:
    key: bytes
    base_nonce: bytes
    exporter_secret: bytes
    key_schedule_context: bytes
    secret: bytes


def key_schedule_base(shared_secret: bytes, info: bytes, *, aead_id: int = AEAD_ID, key_size: int = N_K) -> Context:
    """KeySchedule, section 5.1, base mode (psk and psk_id empty). `aead_id` and `key_size` are
    parameters only so that the tests can also replay RFC 9180 appendix A.3 (AES-128-GCM)."""
    suite_id = b"HPKE" + KEM_ID.to_bytes(2, "big") + KDF_ID.to_bytes(2, "big") + aead_id.to_bytes(2, "big")
    psk_id_hash = labeled_extract(suite_id, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(suite_id, b"", b"info_hash", info)
    context = bytes([MODE_BASE]) + psk_id_hash + info_hash
    secret = labeled_extract(suite_id, shared_secret, b"secret", b"")
    return Context(
        key=labeled_expand(suite_id, secret, b"key", context, key_size),
        base_nonce=labeled_expand(suite_id, secret, b"base_nonce", context, N_N),
        exporter_secret=labeled_expand(suite_id, secret, b"exp", context, N_H),
        key_schedule_context=context,
        secret=secret,
    )


def seal_base(
    pk_r: ec.EllipticCurvePublicKey,
    info: bytes,
    aad: bytes,
    plaintext: bytes,
    *,
    ephemeral_key: ec.EllipticCurvePrivateKey | None = None,
) -> tuple[bytes, bytes]:
    """Single-shot SealBase, section 6.1: returns (enc, ciphertext). The first and only message
    uses sequence number 0, so its nonce is the base nonce."""
    sk_e = ephemeral_key or ec.generate_private_key(ec.SECP256R1())
    shared_secret, enc = encap(pk_r, sk_e)
    ctx = key_schedule_base(shared_secret, info)
    return enc, AESGCM(ctx.key).encrypt(ctx.base_nonce, plaintext, aad)


def open_base(enc: bytes, sk_r: ec.EllipticCurvePrivateKey, info: bytes, aad: bytes, ciphertext: bytes) -> bytes:
    """Single-shot OpenBase, section 6.1. Raises HPKEError for a wrong key or altered input."""
    ctx = key_schedule_base(decap(enc, sk_r), info)
    try:
        return AESGCM(ctx.key).decrypt(ctx.base_nonce, ciphertext, aad)
    except InvalidTag as exc:
        raise HPKEError("HPKE open failed: wrong recipient key, or the wrapped key was altered") from exc
