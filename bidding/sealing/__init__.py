"""Sealed-bid format v1: writer and reader. The byte layout is specified in
docs/sealed-bid-format.md; bidding/vectors/*.json are its test vectors. Imports nothing from Django.

    preamble (14 bytes) | header (canonical JSON) | signature (64 bytes) | segments

Everything streams in segments (1 MiB of plaintext each): no function here holds a whole bid.
Every failure a reader can meet is a `SealedBidError` subclass with a message saying what is wrong;
after any exception from `open_sealed` the caller must discard what was written to `out`.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from typing import BinaryIO, Iterator

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bidding import hpke
from bidding.sealing.header import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MAGIC,
    PREAMBLE_SIZE,
    SIGNATURE_SIZE,
    Binding,
    BadSignature,
    BindingMismatch,
    NotSealed,
    Recipient,
    SealedBidError,
    SealedHeader,
    SizeMismatch,
    Tampered,
    Tool,
    Truncated,
    WrongKey,
    MalformedHeader,
    UnsupportedVersion,
    canonical_json,
    parse_header,
    segment_layout,
)

__all__ = [
    "SEGMENT_SIZE", "Binding", "Tool", "Recipient", "SealedHeader", "Randomness",
    "SealedBidError", "NotSealed", "UnsupportedVersion", "Truncated", "Tampered", "MalformedHeader",
    "SizeMismatch", "BadSignature", "BindingMismatch", "WrongKey",
    "seal", "read_header", "verify", "unwrap_data_key", "open_sealed", "fingerprint", "default_tool",
]

SEGMENT_SIZE = 1 << 20  # plaintext bytes per segment; v1 writers use this, readers accept 2^6..2^24
TAG_SIZE = 16
DATA_KEY_SIZE, SALT_SIZE, NONCE_PREFIX_SIZE = 32, 32, 7
_COMMITMENT_LABEL = b"etender-sealed-bid v1 key commitment\x00"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Randomness:
    """Every random value of one sealing. Only test vectors fix them; `seal` draws fresh ones."""

    data_key: bytes
    salt: bytes
    nonce_prefix: bytes
    ephemeral_keys: tuple[ec.EllipticCurvePrivateKey, ...]  # one per recipient, bidder first

    @classmethod
    def fresh(cls, recipients: int) -> Randomness:
        return cls(
            data_key=os.urandom(DATA_KEY_SIZE),
            salt=os.urandom(SALT_SIZE),
            nonce_prefix=os.urandom(NONCE_PREFIX_SIZE),
            ephemeral_keys=tuple(ec.generate_private_key(ec.SECP256R1()) for _ in range(recipients)),
        )


def fingerprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """Lower-case hex SHA-256 of the key's SubjectPublicKeyInfo DER (what WebCrypto exports as "spki")."""
    return hashlib.sha256(public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).hexdigest()


def default_tool() -> Tool:
    """This implementation: its fingerprint is the SHA-256 of the source files that write the format."""
    digest = hashlib.sha256()
    here = os.path.dirname(os.path.abspath(__file__))
    for path in ("__init__.py", "header.py", os.path.join(os.pardir, "hpke.py")):
        with open(os.path.join(here, path), "rb") as source:
            digest.update(hashlib.sha256(source.read()).digest())
    return Tool(name="etender-python-sealing", version=str(FORMAT_VERSION), fingerprint=digest.hexdigest())


# --- key derivations (docs/sealed-bid-format.md, "Keys") ---------------------------------------


def binding_info(binding: Binding, purpose: str) -> bytes:
    """The context string that ties a derived key to one tender, lot and bidder."""
    return canonical_json({"format": FORMAT_NAME, "version": FORMAT_VERSION, "purpose": purpose, **binding.as_dict()})


def segment_key(data_key: bytes, salt: bytes, binding: Binding) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt, binding_info(binding, "segment key")).derive(data_key)


def key_commitment(data_key: bytes, salt: bytes) -> bytes:
    # AES-GCM does not commit to its key: without this, a bidder could build segments that open to
    # two different bids under two data keys and choose at the opening which key to release.
    return hashlib.sha256(_COMMITMENT_LABEL + salt + data_key).digest()


def segment_nonce(nonce_prefix: bytes, index: int, last: bool) -> bytes:
    return nonce_prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


# --- writing -----------------------------------------------------------------------------------


def seal(
    plaintext: BinaryIO,
    out: BinaryIO,
    *,
    recipient_public_key: ec.EllipticCurvePublicKey,
    signing_private_key: ec.EllipticCurvePrivateKey,
    binding: Binding,
    custodial_public_key: ec.EllipticCurvePublicKey | None = None,
    tool: Tool | None = None,
    created: str | None = None,
    plaintext_size: int | None = None,
    segment_size: int = SEGMENT_SIZE,
    randomness: Randomness | None = None,
) -> SealedHeader:
    """Seal `plaintext` (read from its current position) into `out` in one streaming pass when
    `out` is seekable (the header is written with a zero hash and signature, then rewritten in
    place); when `out` is a pipe, `plaintext` must be seekable and is encrypted twice, first
    only to hash. `plaintext_size` is needed only when `plaintext` cannot seek."""
    size = _plaintext_size(plaintext, plaintext_size)
    keys = [recipient_public_key] + ([custodial_public_key] if custodial_public_key is not None else [])
    rnd = randomness or Randomness.fresh(len(keys))
    if len(rnd.data_key) != DATA_KEY_SIZE or len(rnd.salt) != SALT_SIZE or len(rnd.nonce_prefix) != NONCE_PREFIX_SIZE:
        raise ValueError("randomness has the wrong sizes")
    count, ciphertext_size, _ = segment_layout(size, segment_size)
    info = binding_info(binding, "data key")
    if len(rnd.ephemeral_keys) != len(keys):
        raise ValueError("randomness needs one ephemeral key per recipient")
    recipients = []
    for role, key, ephemeral in zip(("bidder", "custodial"), keys, rnd.ephemeral_keys):
        enc, wrapped = hpke.seal_base(key, info, b"", rnd.data_key, ephemeral_key=ephemeral)
        recipients.append(Recipient(role=role, key_fingerprint=fingerprint(key), enc=enc, wrapped_key=wrapped))
    header = SealedHeader(
        binding=binding, plaintext_size=size, segment_size=segment_size, segment_count=count,
        ciphertext_size=ciphertext_size, ciphertext_sha256="0" * 64, salt=rnd.salt, nonce_prefix=rnd.nonce_prefix,
        key_commitment=key_commitment(rnd.data_key, rnd.salt), recipients=tuple(recipients),
        signer_key_fingerprint=fingerprint(signing_private_key.public_key()), tool=tool or default_tool(),
        created=created or _now(),
    ).with_raw()
    key = segment_key(rnd.data_key, rnd.salt, binding)
    if _seekable(out):
        start = out.tell()
        out.write(header.signed_bytes() + bytes(SIGNATURE_SIZE))
        digest = hashlib.sha256()
        for segment in _encrypt_segments(plaintext, header, key):
            digest.update(segment)
            out.write(segment)
        end = out.tell()
        header = replace(header, ciphertext_sha256=digest.hexdigest()).with_raw()
        out.seek(start)
        out.write(header.signed_bytes() + _sign(header, signing_private_key))
        out.seek(end)
        return header
    if not _seekable(plaintext):
        raise ValueError("to seal into a pipe the plaintext must be seekable (it is read twice)")
    start = plaintext.tell()
    digest = hashlib.sha256()
    for segment in _encrypt_segments(plaintext, header, key):
        digest.update(segment)
    plaintext.seek(start)
    header = replace(header, ciphertext_sha256=digest.hexdigest()).with_raw()
    out.write(header.signed_bytes() + _sign(header, signing_private_key))
    for segment in _encrypt_segments(plaintext, header, key):
        out.write(segment)
    return header


def _encrypt_segments(plaintext: BinaryIO, header: SealedHeader, key: bytes) -> Iterator[bytes]:
    aead = AESGCM(key)
    for index, size in enumerate(_segment_sizes(header)):
        chunk = _read_up_to(plaintext, size)
        if len(chunk) != size:
            raise ValueError(f"plaintext ended at byte {index * header.segment_size + len(chunk)}, before plaintext_size")
        last = index == header.segment_count - 1
        yield aead.encrypt(segment_nonce(header.nonce_prefix, index, last), chunk, None)
    if plaintext.read(1):
        raise ValueError("plaintext is longer than plaintext_size")


def _sign(header: SealedHeader, signing_private_key: ec.EllipticCurvePrivateKey) -> bytes:
    # Raw r || s (32 bytes each, big-endian): the form WebCrypto's ECDSA produces and verifies.
    # RFC 6979 deterministic nonces make the test vectors byte-exact; verifiers do not care.
    der = signing_private_key.sign(header.signed_bytes(), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


# --- reading -----------------------------------------------------------------------------------


def read_header(f: BinaryIO) -> tuple[SealedHeader, bytes]:
    """Read the preamble, header and signature; leaves `f` at the first segment. Checks the
    header's form and internal consistency, not the signature."""
    head = _read_exact(f, PREAMBLE_SIZE, "the preamble", allow_empty_as_not_sealed=True)
    if head[: len(MAGIC)] != MAGIC:
        raise NotSealed("this is not a sealed bid (the file does not start with the sealed-bid magic bytes)")
    version = int.from_bytes(head[8:10], "big")
    if version != FORMAT_VERSION:
        raise UnsupportedVersion(f"sealed-bid format version {version} is not supported (this reader knows version 1)")
    length = int.from_bytes(head[10:14], "big")
    raw = _read_exact(f, length, "the header") if 0 < length <= 65536 else None
    if raw is None:
        raise MalformedHeader(f"declared header length {length} is outside 1..65536")
    header = parse_header(raw)
    return header, _read_exact(f, SIGNATURE_SIZE, "the signature")


def check_signature(header: SealedHeader, signature: bytes, signing_public_key: ec.EllipticCurvePublicKey) -> None:
    if header.signer_key_fingerprint != fingerprint(signing_public_key):
        raise BadSignature(f"the header says it was signed by key {header.signer_key_fingerprint}, not by the expected key")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        signing_public_key.verify(encode_dss_signature(r, s), header.signed_bytes(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise BadSignature("the header signature is missing or invalid: the header was altered or not signed by this key") from None


def check_binding(header: SealedHeader, expected: Binding | None) -> None:
    if expected is not None and header.binding != expected:
        raise BindingMismatch(f"this bid is sealed for {header.binding.describe()}, not for {expected.describe()}")


def verify(f: BinaryIO, *, signing_public_key: ec.EllipticCurvePublicKey, expected_binding: Binding | None = None) -> SealedHeader:
    """Check signature, binding, ciphertext size and SHA-256 without decrypting; reads to the end."""
    header, signature = read_header(f)
    check_signature(header, signature, signing_public_key)
    check_binding(header, expected_binding)
    digest, remaining = hashlib.sha256(), header.ciphertext_size
    while remaining:
        chunk = _read_exact(f, min(_CHUNK, remaining), "the segments")
        digest.update(chunk)
        remaining -= len(chunk)
    _check_end(f, header, digest)
    return header


def unwrap_data_key(header: SealedHeader, recipient_private_key: ec.EllipticCurvePrivateKey) -> bytes:
    """The data key, unwrapped with the bidder's (or the custodian's) private decryption key."""
    wanted = fingerprint(recipient_private_key.public_key())
    recipient = next((r for r in header.recipients if r.key_fingerprint == wanted), None)
    if recipient is None:
        raise WrongKey(f"this bid is not sealed to decryption key {wanted}")
    try:
        data_key = hpke.open_base(recipient.enc, recipient_private_key, binding_info(header.binding, "data key"), b"", recipient.wrapped_key)
    except hpke.HPKEError:
        raise Tampered(f"the data key wrapped to {wanted} does not open: the header was altered") from None
    if len(data_key) != DATA_KEY_SIZE or key_commitment(data_key, header.salt) != header.key_commitment:
        raise Tampered(f"the data key wrapped to {wanted} is not the key the segments were sealed with")
    return data_key


def open_sealed(
    f: BinaryIO,
    out: BinaryIO,
    *,
    data_key: bytes,
    signing_public_key: ec.EllipticCurvePublicKey | None = None,
    expected_binding: Binding | None = None,
) -> SealedHeader:
    """Decrypt segment by segment into `out`, checking the signature (when a key is given), the
    binding, the key commitment, every segment's tag, order and last flag, the size and hash."""
    header, signature = read_header(f)
    if signing_public_key is not None:
        check_signature(header, signature, signing_public_key)
    check_binding(header, expected_binding)
    if len(data_key) != DATA_KEY_SIZE or key_commitment(data_key, header.salt) != header.key_commitment:
        raise WrongKey("this data key is not the key this bid was sealed with")
    aead = AESGCM(segment_key(data_key, header.salt, header.binding))
    digest = hashlib.sha256()
    for index, size in enumerate(_segment_sizes(header)):
        segment = _read_exact(f, size + TAG_SIZE, f"segment {index}")
        digest.update(segment)
        last = index == header.segment_count - 1
        try:
            out.write(aead.decrypt(segment_nonce(header.nonce_prefix, index, last), segment, None))
        except InvalidTag:
            raise Tampered(f"segment {index} of {header.segment_count} fails authentication: altered, reordered or from another file") from None
    _check_end(f, header, digest)
    return header


def _check_end(f: BinaryIO, header: SealedHeader, digest) -> None:
    if f.read(1):
        raise SizeMismatch(f"bytes follow the {header.ciphertext_size} bytes of segments the header declares")
    if digest.hexdigest() != header.ciphertext_sha256:
        raise Tampered("the segments do not match the ciphertext SHA-256 in the header")


def _segment_sizes(header: SealedHeader) -> Iterator[int]:
    for index in range(header.segment_count):
        yield header.segment_size if index < header.segment_count - 1 else header.plaintext_size - index * header.segment_size


def _read_up_to(f: BinaryIO, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        chunk = f.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _read_exact(f: BinaryIO, n: int, what: str, allow_empty_as_not_sealed: bool = False) -> bytes:
    data = _read_up_to(f, n)
    if len(data) != n:
        if allow_empty_as_not_sealed and (not data or data[: len(MAGIC)] != MAGIC[: len(data)]):
            raise NotSealed("this is not a sealed bid (the file does not start with the sealed-bid magic bytes)")
        raise Truncated(f"the file ends inside {what} ({len(data)} of {n} bytes)")
    return data


def _plaintext_size(plaintext: BinaryIO, declared: int | None) -> int:
    if declared is not None:
        return declared
    if not _seekable(plaintext):
        raise ValueError("plaintext_size is required when the plaintext cannot seek")
    here = plaintext.tell()
    end = plaintext.seek(0, os.SEEK_END)
    plaintext.seek(here)
    return end - here


def _seekable(stream) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, ValueError, OSError):
        return False


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
