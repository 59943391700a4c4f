"""The bidder's key file: two P-256 private keys under one passphrase, readable by the CLI and a browser.

Pure: no Django. The format is specified in docs/bidder-key-file.md; bidding/vectors/keyfile-v1.json
is a test vector any other implementation (the in-browser sealer) must open.

A bidder holds two keys, created on its own machine and kept only there:
- the decryption key (ECDH P-256): bids are sealed to it with HPKE, so only the bidder can unwrap;
- the signing key (ECDSA P-256): it signs the header of every sealed bid.

The file is a JSON document. Its public part (the two public keys as JWK, their fingerprints, a
label and the creation time) is readable without the passphrase, so the bid tool can show the
fingerprints and register the public keys. The private keys (JWK, as WebCrypto imports them) are
encrypted with AES-256-GCM under a key derived from the passphrase with PBKDF2-HMAC-SHA256 (the
KDF a browser offers; scrypt and Argon2 are not in WebCrypto), and the whole public part is the
AEAD's associated data, so a swapped public key is detected at unlock.

    master    = PBKDF2-HMAC-SHA256(NFC(passphrase) as UTF-8, salt, iterations, 32 bytes)
    aead key  = HKDF-SHA256(master, salt = empty, info = "etender-bidder-keys v1 aead key", 32)
    check     = HKDF-SHA256(master, salt = empty, info = "etender-bidder-keys v1 passphrase check", 32)

The stored check value tells a wrong passphrase (WrongPassphrase) from an altered file
(TamperedKeyFile); it costs a guesser exactly as much as trying the AEAD, so it gives nothing away.

`fingerprint` is SHA-256 over the key's SubjectPublicKeyInfo DER, in lowercase hex; bidding/sealing.py
defines the same thing, and both must stay equal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

FORMAT = "etender-bidder-keys"
VERSION = 1
KDF_NAME = "PBKDF2-SHA256"
AEAD_NAME = "AES-256-GCM"
CURVE_NAME = "P-256"

DEFAULT_ITERATIONS = 600_000  # OWASP's figure for PBKDF2-HMAC-SHA256 (2023)
# Readers accept fewer (test vectors use 1,000) but never more than MAX: a file must not be able
# to make the tool compute for minutes.
MIN_ITERATIONS = 1_000
MAX_ITERATIONS = 10_000_000
MIN_PASSPHRASE_CHARS = 12
SALT_BYTES = 16
NONCE_BYTES = 12
MAX_LABEL_CHARS = 200
MAX_FILE_BYTES = 64 * 1024

_AEAD_KEY_INFO = b"etender-bidder-keys v1 aead key"
_CHECK_INFO = b"etender-bidder-keys v1 passphrase check"
_TOP_FIELDS = {"format", "version", "label", "created", "public", "kdf", "aead", "ciphertext"}
_PUBLIC_JWK_FIELDS = {"kty", "crv", "x", "y"}
# Members a JWK exported by WebCrypto or another tool may carry besides the key itself.
_OPTIONAL_JWK_FIELDS = {"ext", "key_ops", "alg", "use", "kid"}
_P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class KeyFileError(Exception):
    """Anything wrong with a key file or a passphrase. Messages never contain secrets.

    `code` is stable, for callers that show their own (translated) message."""

    code = "key_file"


class WrongPassphrase(KeyFileError):
    """The passphrase does not open this file (also when the KDF parameters were changed)."""

    code = "wrong_passphrase"


class WeakPassphrase(KeyFileError, ValueError):
    """A new passphrase the tool refuses (too short, or not valid text)."""

    code = "weak_passphrase"


class MalformedKeyFile(KeyFileError):
    """Not a well-formed version-1 key file: bad JSON, missing or unknown fields, bad keys."""

    code = "malformed"


class InvalidJWK(MalformedKeyFile):
    """A JWK that is not a valid P-256 public key (wrong curve, point not on the curve ...)."""

    code = "invalid_jwk"


class UnsupportedKeyFile(KeyFileError):
    """A key file of a later version, or with a KDF or cipher this tool does not know."""

    code = "unsupported"


class TamperedKeyFile(KeyFileError):
    """The passphrase is right, but the file was altered after it was written."""

    code = "tampered"


@dataclass(frozen=True)
class Fingerprints:
    decryption: str
    signing: str


@dataclass(frozen=True)
class PublicKeys:
    """The public part. Not authenticated until the file is unlocked: register keys after `unlock`."""

    decryption: ec.EllipticCurvePublicKey
    signing: ec.EllipticCurvePublicKey
    fingerprints: Fingerprints
    label: str
    created: datetime


@dataclass(frozen=True)
class PrivateKeys:
    decryption: ec.EllipticCurvePrivateKey
    signing: ec.EllipticCurvePrivateKey
    public: PublicKeys


# --- public API -----------------------------------------------------------------------------


def fingerprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """SHA-256 of the SubjectPublicKeyInfo DER (uncompressed point), lowercase hex.

    The same definition as bidding/sealing.py's; WebCrypto's exportKey("spki") gives the same DER."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def public_jwk(key: ec.EllipticCurvePublicKey) -> dict:
    """The JWK (RFC 7518) of a P-256 public key: kty, crv, x, y."""
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("a P-256 public key is required")
    numbers = key.public_numbers()
    return {"kty": "EC", "crv": CURVE_NAME, "x": _b64e(_int32(numbers.x)), "y": _b64e(_int32(numbers.y))}


def public_key_from_jwk(jwk: object) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from its JWK; raises InvalidJWK for another curve, a point not on the
    curve, a private key (member "d") or anything else that is not a P-256 public JWK."""
    if not isinstance(jwk, dict):
        raise InvalidJWK("a public key must be a JWK object")
    if "d" in jwk:
        raise InvalidJWK("a private key was given where a public key is expected")
    unknown = set(jwk) - _PUBLIC_JWK_FIELDS - _OPTIONAL_JWK_FIELDS
    if unknown:
        raise InvalidJWK("the public key has unknown members: " + ", ".join(sorted(map(str, unknown))))
    return _public_key(jwk, "public key")


def generate(passphrase: str, *, label: str = "", iterations: int = DEFAULT_ITERATIONS) -> bytes:
    """A new key file (its bytes) with fresh decryption and signing keys under `passphrase`."""
    secret = _new_passphrase(passphrase)
    _check_new_iterations(iterations)
    _check_new_label(label)
    return _seal(
        secret,
        decryption=ec.generate_private_key(ec.SECP256R1()),
        signing=ec.generate_private_key(ec.SECP256R1()),
        label=label,
        created=datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        iterations=iterations,
        salt=os.urandom(SALT_BYTES),
        nonce=os.urandom(NONCE_BYTES),
    )


def load_public(data: bytes) -> PublicKeys:
    """The public part, without the passphrase. Checks its form and that the fingerprints match."""
    return _parse(data).public


def unlock(data: bytes, passphrase: str) -> PrivateKeys:
    """Both private keys. WrongPassphrase if the passphrase (or the KDF parameters) are wrong,
    TamperedKeyFile if the passphrase is right but any other part of the file was altered."""
    if not isinstance(passphrase, str):
        raise TypeError("the passphrase must be a str")
    document = _parse(data)
    try:
        secret = _passphrase_bytes(passphrase)
    except UnicodeEncodeError:
        raise WrongPassphrase("the passphrase is wrong") from None
    aead_key, check = _derive(secret, document.salt, document.iterations)
    if not hmac.compare_digest(check, document.check):
        raise WrongPassphrase("the passphrase is wrong")
    try:
        plaintext = AESGCM(aead_key).decrypt(document.nonce, document.ciphertext, document.associated_data)
    except InvalidTag:
        raise TamperedKeyFile("the key file was altered after it was written") from None
    decryption, signing = _private_keys(plaintext)
    if fingerprint(decryption.public_key()) != document.public.fingerprints.decryption or (
        fingerprint(signing.public_key()) != document.public.fingerprints.signing
    ):
        raise MalformedKeyFile("the private keys do not belong to the public keys of the file")
    return PrivateKeys(decryption=decryption, signing=signing, public=document.public)


def change_passphrase(data: bytes, old: str, new: str, *, iterations: int | None = None) -> bytes:
    """The same keys, label and creation time under a new passphrase, with a fresh salt and nonce.

    `iterations` defaults to the file's own count, raised to DEFAULT_ITERATIONS if lower."""
    secret = _new_passphrase(new)
    keys = unlock(data, old)
    document = _parse(data)
    if iterations is None:
        iterations = max(document.iterations, DEFAULT_ITERATIONS)
    _check_new_iterations(iterations)
    return _seal(
        secret,
        decryption=keys.decryption,
        signing=keys.signing,
        label=keys.public.label,
        created=document.created,
        iterations=iterations,
        salt=os.urandom(SALT_BYTES),
        nonce=os.urandom(NONCE_BYTES),
    )


# --- writing --------------------------------------------------------------------------------


def _seal(secret: bytes, *, decryption, signing, label: str, created: str, iterations: int, salt: bytes, nonce: bytes) -> bytes:
    """The file for the given keys and parameters; deterministic, so test vectors can be rebuilt."""
    aead_key, check = _derive(secret, salt, iterations)
    document = {
        "format": FORMAT,
        "version": VERSION,
        "label": label,
        "created": created,
        "public": {
            "decryption": public_jwk(decryption.public_key()),
            "signing": public_jwk(signing.public_key()),
            "fingerprints": {
                "decryption": fingerprint(decryption.public_key()),
                "signing": fingerprint(signing.public_key()),
            },
        },
        "kdf": {"name": KDF_NAME, "iterations": iterations, "salt": _b64e(salt), "check": _b64e(check)},
        "aead": {"name": AEAD_NAME, "nonce": _b64e(nonce)},
    }
    plaintext = _canonical({"decryption": _private_jwk(decryption), "signing": _private_jwk(signing)})
    document["ciphertext"] = _b64e(AESGCM(aead_key).encrypt(nonce, plaintext, _canonical(document)))
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _private_jwk(key: ec.EllipticCurvePrivateKey) -> dict:
    return {**public_jwk(key.public_key()), "d": _b64e(_int32(key.private_numbers().private_value))}


def _new_passphrase(passphrase: str) -> bytes:
    if not isinstance(passphrase, str):
        raise TypeError("the passphrase must be a str")
    try:
        secret = _passphrase_bytes(passphrase)
    except UnicodeEncodeError:
        raise WeakPassphrase("the passphrase is not valid text") from None
    if len(unicodedata.normalize("NFC", passphrase)) < MIN_PASSPHRASE_CHARS:
        raise WeakPassphrase(f"the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters")
    return secret


def _check_new_iterations(iterations: int) -> None:
    if isinstance(iterations, bool) or not isinstance(iterations, int):
        raise TypeError("iterations must be an int")
    if not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"iterations must be between {MIN_ITERATIONS} and {MAX_ITERATIONS}")


def _check_new_label(label: str) -> None:
    if not isinstance(label, str):
        raise TypeError("the label must be a str")
    if _label_problem(label):
        raise ValueError(_label_problem(label))


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Document:
    public: PublicKeys
    created: str
    iterations: int
    salt: bytes
    check: bytes
    nonce: bytes
    ciphertext: bytes
    associated_data: bytes


def _parse(data: bytes) -> _Document:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("key file contents must be bytes")
    if len(data) > MAX_FILE_BYTES:
        raise MalformedKeyFile("not a bidder key file (too large)")
    try:
        # utf-8-sig: a byte-order mark left by a Windows editor is harmless.
        document = json.loads(bytes(data).decode("utf-8-sig"), object_pairs_hook=_unique_members, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise MalformedKeyFile("not a bidder key file (not JSON)") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise MalformedKeyFile("not a bidder key file")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise MalformedKeyFile("the key file has no valid version")
    if version != VERSION:
        raise UnsupportedKeyFile(f"the key file has version {version}; this tool reads version {VERSION}, please update it")
    _require_fields(document, _TOP_FIELDS, "key file")

    kdf = _object(document["kdf"], "kdf")
    if kdf.get("name") != KDF_NAME:
        raise UnsupportedKeyFile(f"the key file uses an unknown key derivation; this tool knows {KDF_NAME}")
    _require_fields(kdf, {"name", "iterations", "salt", "check"}, "kdf")
    iterations = kdf["iterations"]
    if isinstance(iterations, bool) or not isinstance(iterations, int) or not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise MalformedKeyFile(f"kdf.iterations must be an integer between {MIN_ITERATIONS} and {MAX_ITERATIONS}")
    salt = _b64d(kdf["salt"], "kdf.salt", 16, 64)
    check = _b64d(kdf["check"], "kdf.check", 32, 32)

    aead = _object(document["aead"], "aead")
    if aead.get("name") != AEAD_NAME:
        raise UnsupportedKeyFile(f"the key file uses an unknown cipher; this tool knows {AEAD_NAME}")
    _require_fields(aead, {"name", "nonce"}, "aead")
    nonce = _b64d(aead["nonce"], "aead.nonce", NONCE_BYTES, NONCE_BYTES)
    ciphertext = _b64d(document["ciphertext"], "ciphertext", 17, MAX_FILE_BYTES)

    label = document["label"]
    if not isinstance(label, str) or _label_problem(label):
        raise MalformedKeyFile("the key file's label is not valid")
    created = document["created"]
    if not isinstance(created, str) or len(created) > 64:
        raise MalformedKeyFile("the key file's creation time is not valid")
    try:
        created_at = datetime.fromisoformat(created)
    except ValueError:
        raise MalformedKeyFile("the key file's creation time is not valid") from None
    if created_at.tzinfo is None:
        raise MalformedKeyFile("the key file's creation time has no time zone")

    public = _public_part(document["public"], label, created_at)
    try:
        associated_data = _canonical({name: value for name, value in document.items() if name != "ciphertext"})
    except UnicodeEncodeError:  # an escaped lone surrogate ("\ud800") is JSON but not text
        raise MalformedKeyFile("the key file holds text that is not valid Unicode") from None
    return _Document(public, created, iterations, salt, check, nonce, ciphertext, associated_data)


def _public_part(value: object, label: str, created: datetime) -> PublicKeys:
    public = _object(value, "public")
    _require_fields(public, {"decryption", "signing", "fingerprints"}, "public")
    keys = {}
    for role in ("decryption", "signing"):
        jwk = _object(public[role], f"public.{role}")
        _require_fields(jwk, _PUBLIC_JWK_FIELDS, f"public.{role}")
        keys[role] = _public_key(jwk, f"public.{role}")
    fingerprints = _object(public["fingerprints"], "public.fingerprints")
    _require_fields(fingerprints, {"decryption", "signing"}, "public.fingerprints")
    for role in ("decryption", "signing"):
        if not isinstance(fingerprints[role], str) or not _HEX64.fullmatch(fingerprints[role]):
            raise MalformedKeyFile(f"public.fingerprints.{role} must be 64 lowercase hex digits")
        if fingerprints[role] != fingerprint(keys[role]):
            raise TamperedKeyFile(f"the {role} key's fingerprint does not match the key: the file was altered")
    if fingerprints["decryption"] == fingerprints["signing"]:
        raise MalformedKeyFile("the decryption and signing keys must be different keys")
    return PublicKeys(
        decryption=keys["decryption"],
        signing=keys["signing"],
        fingerprints=Fingerprints(decryption=fingerprints["decryption"], signing=fingerprints["signing"]),
        label=label,
        created=created,
    )


def _private_keys(plaintext: bytes) -> tuple[ec.EllipticCurvePrivateKey, ec.EllipticCurvePrivateKey]:
    try:
        keys = json.loads(plaintext.decode("utf-8"), object_pairs_hook=_unique_members, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise MalformedKeyFile("the encrypted part of the key file is not JSON") from None
    keys = _object(keys, "private keys")
    _require_fields(keys, {"decryption", "signing"}, "private keys")
    return _private_key(keys["decryption"], "decryption"), _private_key(keys["signing"], "signing")


def _private_key(value: object, role: str) -> ec.EllipticCurvePrivateKey:
    # The message names the role only: nothing derived from the private scalar goes into errors.
    jwk = _object(value, f"private {role} key")
    _require_fields(jwk, _PUBLIC_JWK_FIELDS | {"d"}, f"private {role} key")
    public_key = _public_key({name: jwk[name] for name in _PUBLIC_JWK_FIELDS}, f"private {role} key")
    d = int.from_bytes(_b64d(jwk["d"], f"private {role} key", 32, 32), "big")
    if not 1 <= d < _P256_N:
        raise MalformedKeyFile(f"the private {role} key is not valid")
    try:
        key = ec.EllipticCurvePrivateNumbers(d, public_key.public_numbers()).private_key()
    except ValueError:
        raise MalformedKeyFile(f"the private {role} key does not match its public key") from None
    if key.public_key().public_numbers() != public_key.public_numbers():
        raise MalformedKeyFile(f"the private {role} key does not match its public key")
    return key


def _public_key(jwk: dict, where: str) -> ec.EllipticCurvePublicKey:
    if jwk.get("kty") != "EC":
        raise InvalidJWK(f"{where}: not an elliptic-curve key (kty must be EC)")
    if jwk.get("crv") != CURVE_NAME:
        raise InvalidJWK(f"{where}: the curve must be {CURVE_NAME}")
    try:
        x = int.from_bytes(_b64d(jwk.get("x"), f"{where}.x", 32, 32), "big")
        y = int.from_bytes(_b64d(jwk.get("y"), f"{where}.y", 32, 32), "big")
    except MalformedKeyFile as error:
        raise InvalidJWK(str(error)) from None
    if x >= _P256_P or y >= _P256_P:
        raise InvalidJWK(f"{where}: the point is not on the curve")
    try:
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except ValueError:
        raise InvalidJWK(f"{where}: the point is not on the curve") from None


# --- helpers --------------------------------------------------------------------------------


def _derive(secret: bytes, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    master = PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(secret)
    aead_key = HKDF(hashes.SHA256(), 32, salt=None, info=_AEAD_KEY_INFO).derive(master)
    check = HKDF(hashes.SHA256(), 32, salt=None, info=_CHECK_INFO).derive(master)
    return aead_key, check


def _passphrase_bytes(passphrase: str) -> bytes:
    # NFC: the same passphrase typed on another system (or IME) must give the same bytes.
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def _canonical(value: dict) -> bytes:
    """RFC 8785 (JCS) for the values a key file holds: objects with ASCII keys, strings, integers."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _label_problem(label: str) -> str | None:
    if len(label) > MAX_LABEL_CHARS:
        return f"the label must have at most {MAX_LABEL_CHARS} characters"
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in label):
        return "the label must not contain control characters"
    return None


def _require_fields(value: dict, fields: set[str], where: str) -> None:
    missing = fields - set(value)
    if missing:
        raise MalformedKeyFile(f"{where}: missing " + ", ".join(sorted(missing)))
    unknown = set(value) - fields
    if unknown:
        # Unknown members would be covered by nothing a reader checks; a later format gets a new version.
        raise MalformedKeyFile(f"{where}: unknown members " + ", ".join(sorted(map(repr, unknown)))[:200])


def _object(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise MalformedKeyFile(f"{where} must be a JSON object")
    return value


def _unique_members(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _no_constant(name: str):
    raise ValueError(f"{name} is not allowed")


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64d(text: object, where: str, min_bytes: int, max_bytes: int) -> bytes:
    """Strict unpadded base64url (RFC 4648 section 5), as JWK uses for every binary value."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedKeyFile(f"{where} must be unpadded base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64e(raw) != text:
        raise MalformedKeyFile(f"{where} must be canonical base64url")
    if not min_bytes <= len(raw) <= max_bytes:
        size = f"{min_bytes}" if min_bytes == max_bytes else f"{min_bytes} to {max_bytes}"
        raise MalformedKeyFile(f"{where} must be {size} bytes")
    return raw


def _int32(value: int) -> bytes:
    return value.to_bytes(32, "big")
