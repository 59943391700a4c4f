"""The sealed-bid header: its fields, its canonical JSON, its strict parser, and the exceptions
of the format. See docs/sealed-bid-format.md, "Header". Imports nothing from Django."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace

FORMAT_NAME = "etender-sealed-bid"
FORMAT_VERSION = 1
MAGIC = b"\x89ETBID\r\n"
PREAMBLE_SIZE = 14  # magic (8) | version (uint16 BE) | header length (uint32 BE)
SIGNATURE_SIZE = 64
MAX_HEADER_SIZE = 65536
MIN_SEGMENT_SIZE, MAX_SEGMENT_SIZE = 1 << 6, 1 << 24
MAX_SAFE_INTEGER = (1 << 53) - 1  # JSON integers every JavaScript reader handles exactly
MAX_SEGMENTS = 1 << 32  # the nonce's segment counter is 4 bytes
_TEXT_LIMIT = 200


class SealedBidError(Exception):
    """Base of every error a sealed bid can cause; the message says what is wrong."""


class NotSealed(SealedBidError):
    """The file is not a sealed bid at all (for instance the plain ZIP)."""


class UnsupportedVersion(NotSealed):
    """A sealed bid of a format version this reader does not know."""


class Truncated(SealedBidError):
    """The file ends before the header says it should."""


class Tampered(SealedBidError):
    """Some byte differs from what was sealed: a segment fails authentication, the hash differs..."""


class MalformedHeader(Tampered):
    """The header is not canonical JSON of the v1 fields."""


class SizeMismatch(Tampered):
    """Declared sizes contradict each other or the file (including bytes after the last segment)."""


class BadSignature(SealedBidError):
    """The header signature is missing, invalid, or made with another key."""


class BindingMismatch(SealedBidError):
    """The bid is sealed for another tender, lot or bidder."""


class WrongKey(SealedBidError):
    """The key given is not one this bid was sealed to or with."""


def canonical_json(value) -> bytes:
    """UTF-8 JSON, keys sorted, no whitespace, non-ASCII kept literal: what JavaScript's
    JSON.stringify gives for the same object built with sorted keys (all keys are ASCII)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")


def preamble(header_length: int) -> bytes:
    return MAGIC + FORMAT_VERSION.to_bytes(2, "big") + header_length.to_bytes(4, "big")


def segment_layout(plaintext_size: int, segment_size: int) -> tuple[int, int, int]:
    """(segment count, ciphertext size, plaintext bytes in the last segment). Every segment but
    the last is full; the last holds 1..segment_size bytes, or 0 when the plaintext is empty."""
    if not (MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE) or segment_size & (segment_size - 1):
        raise ValueError(f"segment size {segment_size} is not a power of two from 64 bytes to 16 MiB")
    if not 0 <= plaintext_size <= MAX_SAFE_INTEGER:
        raise ValueError(f"plaintext size {plaintext_size} is out of range")
    count = max(1, -(-plaintext_size // segment_size))
    if count > MAX_SEGMENTS:
        raise ValueError(f"{count} segments exceed the 2^32 the nonce counter allows")
    return count, plaintext_size + 16 * count, plaintext_size - (count - 1) * segment_size


def _text(value, what: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= _TEXT_LIMIT:
        raise ValueError(f"{what} must be a non-empty string of at most {_TEXT_LIMIT} characters")
    return value


@dataclass(frozen=True)
class Binding:
    """What a bid is sealed for. The platform puts the decimal ids of tender, lot and bidder
    organisation here; the format only requires non-empty strings."""

    tender: str
    lot: str
    bidder: str

    def __post_init__(self):
        for name in ("tender", "lot", "bidder"):
            _text(getattr(self, name), name)

    def as_dict(self) -> dict:
        return {"tender": self.tender, "lot": self.lot, "bidder": self.bidder}

    def describe(self) -> str:
        return f"tender {self.tender}, lot {self.lot}, bidder {self.bidder}"


@dataclass(frozen=True)
class Tool:
    """The sealing tool, recorded as evidence: name, version, and a fingerprint of its code."""

    name: str
    version: str
    fingerprint: str

    def __post_init__(self):
        for name in ("name", "version", "fingerprint"):
            _text(getattr(self, name), f"tool {name}")


@dataclass(frozen=True)
class Recipient:
    role: str  # "bidder" (first, always) or "custodial"
    key_fingerprint: str
    enc: bytes  # HPKE encapsulated key: 65-byte uncompressed P-256 point
    wrapped_key: bytes  # HPKE ciphertext of the 32-byte data key: 48 bytes

    def as_dict(self) -> dict:
        return {"role": self.role, "key_fingerprint": self.key_fingerprint, "enc": self.enc.hex(), "wrapped_key": self.wrapped_key.hex()}


@dataclass(frozen=True)
class SealedHeader:
    binding: Binding
    plaintext_size: int
    segment_size: int
    segment_count: int
    ciphertext_size: int
    ciphertext_sha256: str
    salt: bytes
    nonce_prefix: bytes
    key_commitment: bytes
    recipients: tuple[Recipient, ...]
    signer_key_fingerprint: str
    tool: Tool
    created: str
    raw: bytes = field(default=b"", compare=False, repr=False)  # the header bytes as in the file

    def as_dict(self) -> dict:
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "binding": self.binding.as_dict(),
            "plaintext_size": self.plaintext_size,
            "segment_size": self.segment_size,
            "segment_count": self.segment_count,
            "ciphertext_size": self.ciphertext_size,
            "ciphertext_sha256": self.ciphertext_sha256,
            "salt": self.salt.hex(),
            "nonce_prefix": self.nonce_prefix.hex(),
            "key_commitment": self.key_commitment.hex(),
            "recipients": [r.as_dict() for r in self.recipients],
            "signer_key_fingerprint": self.signer_key_fingerprint,
            "tool": asdict(self.tool),
            "created": self.created,
        }

    def with_raw(self) -> SealedHeader:
        raw = canonical_json(self.as_dict())
        if len(raw) > MAX_HEADER_SIZE:
            raise ValueError("the header exceeds 64 KiB")
        return replace(self, raw=raw)

    def signed_bytes(self) -> bytes:
        """What the signature covers: every byte of the file before it."""
        return preamble(len(self.raw)) + self.raw

    @property
    def file_size(self) -> int:
        return PREAMBLE_SIZE + len(self.raw) + SIGNATURE_SIZE + self.ciphertext_size


_HEX = re.compile(r"[0-9a-f]*")
_CREATED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_KEYS = set(SealedHeader.__dataclass_fields__) - {"raw"} | {"format", "version"}


def _no_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def _object(value, keys: set, what: str) -> dict:
    if not isinstance(value, dict) or set(value) != keys:
        raise ValueError(f"{what} must be an object with exactly the keys {sorted(keys)}")
    return value


def _int(value, what: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_SAFE_INTEGER:
        raise ValueError(f"{what} must be a non-negative integer")
    return value


def _hex(value, size: int, what: str) -> str:
    if not isinstance(value, str) or len(value) != 2 * size or not _HEX.fullmatch(value):
        raise ValueError(f"{what} must be {size} bytes in lower-case hex")
    return value


def _recipient(value, index: int) -> Recipient:
    _object(value, {"role", "key_fingerprint", "enc", "wrapped_key"}, f"recipient {index}")
    role = ("bidder", "custodial")[index]
    if value["role"] != role:
        raise ValueError(f"recipient {index} must have role {role!r}")
    enc = bytes.fromhex(_hex(value["enc"], 65, "enc"))
    if enc[0] != 0x04:
        raise ValueError("enc must be an uncompressed P-256 point")
    return Recipient(role, _hex(value["key_fingerprint"], 32, "key_fingerprint"), enc, bytes.fromhex(_hex(value["wrapped_key"], 48, "wrapped_key")))


def parse_header(raw: bytes) -> SealedHeader:
    """The header from its bytes, refusing anything but the canonical JSON of valid v1 fields."""
    try:
        obj = _object(json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys), _KEYS, "the header")
        if obj["format"] != FORMAT_NAME or obj["version"] != FORMAT_VERSION or type(obj["version"]) is not int:
            raise ValueError("format and version must be etender-sealed-bid and 1")
        recipients = obj["recipients"]
        if not isinstance(recipients, list) or not 1 <= len(recipients) <= 2:
            raise ValueError("recipients must list the bidder and at most one custodial key")
        if not isinstance(obj["created"], str) or not _CREATED.fullmatch(obj["created"]):
            raise ValueError("created must be a UTC time like 2025-01-31T08:00:00Z")
        binding = _object(obj["binding"], {"tender", "lot", "bidder"}, "binding")
        tool = _object(obj["tool"], {"name", "version", "fingerprint"}, "tool")
        header = SealedHeader(
            binding=Binding(**binding),
            plaintext_size=_int(obj["plaintext_size"], "plaintext_size"),
            segment_size=_int(obj["segment_size"], "segment_size"),
            segment_count=_int(obj["segment_count"], "segment_count"),
            ciphertext_size=_int(obj["ciphertext_size"], "ciphertext_size"),
            ciphertext_sha256=_hex(obj["ciphertext_sha256"], 32, "ciphertext_sha256"),
            salt=bytes.fromhex(_hex(obj["salt"], 32, "salt")),
            nonce_prefix=bytes.fromhex(_hex(obj["nonce_prefix"], 7, "nonce_prefix")),
            key_commitment=bytes.fromhex(_hex(obj["key_commitment"], 32, "key_commitment")),
            recipients=tuple(_recipient(r, i) for i, r in enumerate(recipients)),
            signer_key_fingerprint=_hex(obj["signer_key_fingerprint"], 32, "signer_key_fingerprint"),
            tool=Tool(**tool),
            created=obj["created"],
            raw=raw,
        )
        if canonical_json(obj) != raw:
            raise ValueError("it is not in canonical form")
    except (UnicodeDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise MalformedHeader(f"the header is malformed: {exc}") from None
    try:
        layout = segment_layout(header.plaintext_size, header.segment_size)
    except ValueError as exc:
        raise SizeMismatch(f"the header's sizes are impossible: {exc}") from None
    if (header.segment_count, header.ciphertext_size) != layout[:2]:
        raise SizeMismatch(
            f"the header declares {header.segment_count} segments and {header.ciphertext_size} ciphertext bytes, "
            f"but {header.plaintext_size} plaintext bytes in segments of {header.segment_size} make {layout[0]} and {layout[1]}"
        )
    return header
