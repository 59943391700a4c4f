"""The platform's Ed25519 signing key.

Generated on first use into the instance's data folder (`DATA_DIR/platform_ed25519.pem`, mode
0600) and never kept in the repository. The key id is the first 16 hex digits of the SHA-256 of
the raw 32-byte public key, so a signature names the key that made it.

What the platform signs is always a canonical statement (canonical JSON, UTF-8), e.g. for a tender
document: its tender code, title, version, size and SHA-256 (`document_statement`).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from audit.chain import canonical_json

KEY_FILENAME = "platform_ed25519.pem"
_lock = threading.Lock()
_cache: dict[Path, Ed25519PrivateKey] = {}


def key_path() -> Path:
    return Path(settings.DATA_DIR) / KEY_FILENAME


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        # O_EXCL: if another process created the key meanwhile, we use theirs.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


def private_key() -> Ed25519PrivateKey:
    path = key_path()
    with _lock:
        key = _cache.get(path)
        if key is None:
            if not path.exists():
                _create(path)
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise RuntimeError(f"{path} does not hold an Ed25519 private key")
            _cache[path] = key
        return key


def public_key_bytes() -> bytes:
    return private_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def platform_key_id() -> str:
    return key_id_of(public_key_bytes())


def sign(data: bytes) -> str:
    """Ed25519 signature of `data`, hex (128 digits)."""
    return private_key().sign(data).hex()


def verify(data: bytes, signature_hex: str, public_raw: bytes | None = None) -> bool:
    """True if `signature_hex` signs `data` under `public_raw` (default: this platform's key)."""
    try:
        signature = bytes.fromhex(signature_hex)
        key = Ed25519PublicKey.from_public_bytes(public_raw if public_raw is not None else public_key_bytes())
        key.verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def document_statement(*, tender_code: str, title: str, version: int, size: int, sha256: str) -> bytes:
    """The bytes the platform signs for a tender document."""
    return canonical_json(
        {"type": "tender-document", "v": 1, "tender": tender_code, "title": title, "version": version, "size": size, "sha256": sha256}
    ).encode("utf-8")
