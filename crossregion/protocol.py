"""The cross-region protocol, version 1, as a specification (docs/cross-region.md). No Django here.

Two platforms (one per city) talk by signed messages. Everything signed is canonical JSON
(audit/chain.py: sorted keys, separators "," and ":", UTF-8, no floats) and every signature is
Ed25519, written base64url without padding. This module builds, signs and checks:

- the platform metadata served at /.well-known/etender-platform.json (`build_metadata`, `parse_metadata`);
- the message envelope and its wire form (`build_envelope`, `sign_envelope`, `parse_wire`,
  `verify_envelope`, `check_fresh`);
- the cooperation agreement (远程异地评标合作框架协议) document (`build_agreement`, `sign_agreement`,
  `verify_agreement`);
- the federation token an away expert carries from home to the host (`build_token_payload`,
  `sign_token`, `peek_token`, `verify_token`).

Every refusal is a `ProtocolError` carrying a stable `code` (the inbox answers with it) and the
HTTP status the inbox uses. Checks that need the database (is the sender a partner, was this nonce
seen, is there a valid agreement, was this token used) are the caller's; the codes are here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.chain import CanonicalJSONError, canonical_json

MESSAGE_FORMAT = "etender-message/1"
PLATFORM_FORMAT = "etender-platform/1"
AGREEMENT_FORMAT = "etender-agreement/1"
TOKEN_FORMAT = "etender-federation/1"

MAX_SKEW_SECONDS = 300  # |now - sent_at| allowed for a message
TOKEN_MAX_LIFETIME_SECONDS = 300  # exp - iat of a federation token
TOKEN_CLOCK_SKEW_SECONDS = 60  # an iat this far in the future is still accepted
MAX_MESSAGE_BYTES = 1024 * 1024  # 1 MiB on the wire
MAX_REPLICATION_BYTES = 8 * 1024 * 1024  # replication.* messages
SCOPES = ("booking", "drawing", "federation", "replication")
ENDPOINTS = {"inbox": "/crossregion/inbox/", "federated_login": "/crossregion/federated-login/"}

ENVELOPE_KEYS = frozenset({"format", "type", "from", "to", "key_id", "nonce", "sent_at", "idempotency_key", "body"})
TOKEN_KEYS = frozenset({"format", "iss", "aud", "sub", "session", "iat", "exp", "jti"})
AGREEMENT_KEYS = frozenset({"format", "id", "parties", "scope", "valid_from", "valid_until", "text"})
PARTY_KEYS = frozenset({"region_code", "name", "key_id"})

_REGION = re.compile(r"\A[0-9]{6}\Z")
_TYPE = re.compile(r"\A[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\Z")
_NONCE = re.compile(r"\A[0-9a-f]{32}\Z")
_KEY_ID = re.compile(r"\A[0-9a-f]{16}\Z")
_IDEMPOTENCY_KEY = re.compile(r"\A[A-Za-z0-9._:-]{8,128}\Z")
_TIME = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
_B64URL = re.compile(r"\A[A-Za-z0-9_-]*\Z")
_SUBJECT = re.compile(r"\A[A-Za-z0-9._:-]{1,128}\Z")
_BASE_URL = re.compile(r"\Ahttps?://[^\s/?#]+(/[^\s?#]*)?\Z")


def _(s):  # translation marker: the detail texts are Chinese msgids, translated where shown
    return s


# Errors --------------------------------------------------------------------------------------

class ProtocolError(ValueError):
    """A refusal: `code` is stable (machines), `detail` says what exactly (people)."""

    code = "malformed"
    status = 400

    def __init__(self, detail: str = "", *, code: str | None = None, status: int | None = None):
        super().__init__(detail or self.code)
        self.detail = detail or self.code
        if code:
            self.code = code
        if status:
            self.status = status

    def as_response(self) -> dict:
        return {"ok": False, "code": self.code, "detail": self.detail}


class Malformed(ProtocolError):
    code, status = "malformed", 400


class TooLarge(ProtocolError):
    code, status = "too_large", 413


class BadSignature(ProtocolError):
    code, status = "bad_signature", 401


class Stale(ProtocolError):
    code, status = "stale", 401


class TokenError(ProtocolError):
    """A federation token refused. Codes: token_malformed, token_bad_signature, token_expired,
    token_lifetime, token_not_yet_valid, token_wrong_audience, token_unknown_issuer, plus the
    caller's token_replayed, token_no_agreement and token_not_assigned."""

    code, status = "token_malformed", 403


# Encodings -----------------------------------------------------------------------------------

def canonical_bytes(value) -> bytes:
    """The canonical JSON bytes of `value`; Malformed if it holds a float or another non-JSON value."""
    try:
        return canonical_json(value).encode("utf-8")
    except CanonicalJSONError as exc:
        raise Malformed(str(exc)) from None


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, *, what: str = "value", error: type[ProtocolError] = Malformed) -> bytes:
    """Strict base64url without padding: only the alphabet, and the canonical encoding of its bytes."""
    if not isinstance(text, str) or not _B64URL.match(text) or len(text) % 4 == 1:
        raise error(f"{what}: not base64url without padding")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise error(f"{what}: not base64url without padding") from None
    if b64url_encode(raw) != text:
        raise error(f"{what}: not the canonical base64url of its bytes")
    return raw


def key_id(public_raw: bytes) -> str:
    """First 16 hex digits of SHA-256(raw public key): the same as audit.platform_key.key_id_of."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def fingerprint(public_raw: bytes) -> str:
    """The full SHA-256 of the raw public key in groups of four hex digits, read out over the phone
    to confirm a partner's key out of band. Its first 16 digits are the key id."""
    digest = hashlib.sha256(public_raw).hexdigest()
    return " ".join(digest[i:i + 4] for i in range(0, 64, 4))


def public_raw_of(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def format_time(moment: datetime) -> str:
    """"YYYY-MM-DDTHH:MM:SSZ" in UTC, whole seconds."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text, *, what: str = "time", error: type[ProtocolError] = Malformed) -> datetime:
    if not isinstance(text, str) or not _TIME.match(text):
        raise error(f"{what}: not YYYY-MM-DDTHH:MM:SSZ")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise error(f"{what}: not a date and time") from None


def new_nonce() -> str:
    return secrets.token_hex(16)


def body_hash(body: dict) -> str:
    """SHA-256 hex of the canonical bytes of a message body (the idempotency comparison)."""
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


def area_of(message_type: str) -> str:
    return message_type.split(".", 1)[0]


def _sign(private_key: Ed25519PrivateKey, data: bytes) -> str:
    return b64url_encode(private_key.sign(data))


def _verify(public_raw: bytes, data: bytes, signature, *, what: str = "signature", token: bool = False) -> None:
    def refuse(detail):
        return TokenError(detail, code="token_bad_signature") if token else BadSignature(detail)

    if not isinstance(signature, str) or not signature:
        raise refuse(f"{what}: missing")
    try:
        raw = b64url_decode(signature, what=what)
    except Malformed as exc:
        raise refuse(exc.detail) from None
    if len(raw) != 64:
        raise refuse(f"{what}: not 64 bytes")
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(raw, data)
    except (InvalidSignature, ValueError):
        raise refuse(f"{what}: does not verify under key {key_id(public_raw)}") from None


def _loads(raw: bytes, *, what: str, error: type[ProtocolError] = Malformed):
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity, no floats (canonical values only)."""

    def no_duplicates(pairs):
        keys = [k for k, _v in pairs]
        if len(keys) != len(set(keys)):
            raise error(f"{what}: duplicate key")
        return dict(pairs)

    def no_constant(name):
        raise error(f"{what}: {name} is not allowed")

    try:
        text = raw.decode("utf-8")
        value = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except UnicodeDecodeError:
        raise error(f"{what}: not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise error(f"{what}: not JSON ({exc.msg})") from None
    except RecursionError:
        raise error(f"{what}: nested too deeply") from None
    try:
        canonical_json(value)
    except CanonicalJSONError as exc:
        raise error(f"{what}: {exc}") from None
    return value


def _require(condition: bool, detail: str, error: type[ProtocolError] = Malformed) -> None:
    if not condition:
        raise error(detail)


# Envelope ------------------------------------------------------------------------------------

def check_region(value, what: str = "region") -> str:
    _require(isinstance(value, str) and bool(_REGION.match(value)), f"{what}: not a 6-digit region code")
    return value


def check_idempotency_key(value) -> str:
    _require(isinstance(value, str) and bool(_IDEMPOTENCY_KEY.match(value)), "idempotency_key: 8-128 characters of [A-Za-z0-9._:-]")
    return value


def check_nonce(value) -> str:
    _require(isinstance(value, str) and bool(_NONCE.match(value)), "nonce: not 32 lowercase hex digits")
    return value


def check_type(value) -> str:
    _require(isinstance(value, str) and len(value) <= 64 and bool(_TYPE.match(value)), "type: not <area>.<action>")
    return value


def validate_envelope(envelope) -> dict:
    """Raise Malformed unless `envelope` has exactly the fields of version 1, each well formed."""
    _require(isinstance(envelope, dict), "envelope: not an object")
    keys = set(envelope)
    _require(keys == ENVELOPE_KEYS, f"envelope: fields must be exactly {sorted(ENVELOPE_KEYS)} (missing {sorted(ENVELOPE_KEYS - keys)}, unknown {sorted(keys - ENVELOPE_KEYS)})")
    _require(envelope["format"] == MESSAGE_FORMAT, f"format: not {MESSAGE_FORMAT}")
    check_type(envelope["type"])
    check_region(envelope["from"], "from")
    check_region(envelope["to"], "to")
    _require(isinstance(envelope["key_id"], str) and bool(_KEY_ID.match(envelope["key_id"])), "key_id: not 16 lowercase hex digits")
    check_nonce(envelope["nonce"])
    parse_time(envelope["sent_at"], what="sent_at")
    check_idempotency_key(envelope["idempotency_key"])
    _require(isinstance(envelope["body"], dict), "body: not an object")
    canonical_bytes(envelope)
    return envelope


def build_envelope(
    *, type: str, sender: str, recipient: str, key_id: str, body: dict, idempotency_key: str,
    sent_at: datetime, nonce: str | None = None,
) -> dict:
    envelope = {
        "format": MESSAGE_FORMAT,
        "type": type,
        "from": sender,
        "to": recipient,
        "key_id": key_id,
        "nonce": nonce or new_nonce(),
        "sent_at": format_time(sent_at),
        "idempotency_key": idempotency_key,
        "body": body,
    }
    return validate_envelope(envelope)


def sign_envelope(envelope: dict, private_key: Ed25519PrivateKey) -> str:
    """Ed25519 over the canonical JSON bytes of the whole envelope, base64url without padding."""
    return _sign(private_key, canonical_bytes(validate_envelope(envelope)))


def wire(envelope: dict, signature: str) -> bytes:
    """The HTTP request body: {"envelope": ..., "signature": ...} (canonical JSON, as it happens)."""
    return canonical_bytes({"envelope": envelope, "signature": signature})


def parse_wire(raw: bytes) -> tuple[dict, str | None]:
    """(envelope, signature) from a request body. Malformed if it is not the wire form; a missing or
    non-text signature comes back as None (refused later, after the sender is known, as bad_signature)."""
    data = _loads(raw, what="request")
    _require(isinstance(data, dict), "request: not an object")
    unknown = set(data) - {"envelope", "signature"}
    _require(not unknown, f"request: unknown fields {sorted(unknown)}")
    _require("envelope" in data, "request: no envelope")
    envelope = validate_envelope(data["envelope"])
    signature = data.get("signature")
    return envelope, signature if isinstance(signature, str) and signature else None


def verify_envelope(envelope: dict, signature: str | None, public_raw: bytes) -> None:
    """BadSignature unless `signature` signs the envelope's canonical bytes under `public_raw`."""
    _verify(public_raw, canonical_bytes(envelope), signature)


def check_fresh(envelope: dict, now: datetime, *, max_skew: int = MAX_SKEW_SECONDS) -> None:
    """Stale if sent_at is more than `max_skew` seconds away from `now`, either way."""
    sent_at = parse_time(envelope["sent_at"], what="sent_at")
    skew = abs((now - sent_at).total_seconds())
    if skew > max_skew:
        raise Stale(f"sent_at {envelope['sent_at']} is {int(skew)} s away from now (limit {max_skew} s)")


def size_limit(message_type: str | None) -> int:
    return MAX_REPLICATION_BYTES if message_type and area_of(message_type) == "replication" else MAX_MESSAGE_BYTES


# Platform metadata ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PlatformMetadata:
    region_code: str
    region_name: str
    base_url: str
    public_key: bytes
    key_id: str
    endpoints: dict

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)


def build_metadata(*, region_code: str, region_name: str, base_url: str, public_raw: bytes) -> dict:
    return {
        "format": PLATFORM_FORMAT,
        "region_code": region_code,
        "region_name": region_name,
        "base_url": base_url.rstrip("/"),
        "key": {"alg": "Ed25519", "public": b64url_encode(public_raw), "key_id": key_id(public_raw)},
        "endpoints": dict(ENDPOINTS),
    }


def parse_metadata(raw: bytes | dict) -> PlatformMetadata:
    """Check a platform's metadata document (bytes as fetched, or already parsed)."""
    doc = _loads(raw, what="metadata") if isinstance(raw, (bytes, bytearray)) else raw
    _require(isinstance(doc, dict), "metadata: not an object")
    _require(doc.get("format") == PLATFORM_FORMAT, f"metadata: format is not {PLATFORM_FORMAT}")
    check_region(doc.get("region_code"), "region_code")
    name = doc.get("region_name")
    _require(isinstance(name, str) and 0 < len(name) <= 64, "region_name: missing")
    base_url = doc.get("base_url")
    _require(isinstance(base_url, str) and bool(_BASE_URL.match(base_url)), "base_url: not an http(s) URL")
    key = doc.get("key")
    _require(isinstance(key, dict) and key.get("alg") == "Ed25519", "key: not an Ed25519 key")
    public = b64url_decode(key.get("public"), what="key.public")
    _require(len(public) == 32, "key.public: not 32 bytes")
    _require(key.get("key_id") == key_id(public), "key.key_id: does not match the key")
    endpoints = doc.get("endpoints")
    _require(isinstance(endpoints, dict) and all(isinstance(endpoints.get(k), str) and endpoints[k].startswith("/") for k in ENDPOINTS),
             "endpoints: inbox and federated_login paths required")
    return PlatformMetadata(doc["region_code"], name, base_url.rstrip("/"), public, key["key_id"], {k: endpoints[k] for k in ENDPOINTS})


# Agreement -----------------------------------------------------------------------------------

def validate_agreement(doc) -> dict:
    _require(isinstance(doc, dict) and set(doc) == AGREEMENT_KEYS, f"agreement: fields must be exactly {sorted(AGREEMENT_KEYS)}")
    _require(doc["format"] == AGREEMENT_FORMAT, f"agreement: format is not {AGREEMENT_FORMAT}")
    try:
        _require(str(uuid.UUID(doc["id"])) == doc["id"], "agreement.id: not a lowercase UUID")
    except (ValueError, TypeError, AttributeError):
        raise Malformed("agreement.id: not a UUID") from None
    parties = doc["parties"]
    _require(isinstance(parties, list) and len(parties) == 2, "agreement.parties: exactly two")
    for party in parties:
        _require(isinstance(party, dict) and set(party) == PARTY_KEYS, "agreement.parties: each has region_code, name, key_id")
        check_region(party["region_code"], "party.region_code")
        _require(isinstance(party["name"], str) and 0 < len(party["name"]) <= 64, "party.name: missing")
        _require(isinstance(party["key_id"], str) and bool(_KEY_ID.match(party["key_id"])), "party.key_id: not 16 hex digits")
    _require(parties[0]["region_code"] < parties[1]["region_code"], "agreement.parties: two regions, sorted by region_code")
    scope = doc["scope"]
    _require(isinstance(scope, list) and scope and all(s in SCOPES for s in scope) and scope == sorted(set(scope)),
             f"agreement.scope: a sorted, non-empty list of {list(SCOPES)}")
    valid_from = parse_time(doc["valid_from"], what="valid_from")
    valid_until = parse_time(doc["valid_until"], what="valid_until")
    _require(valid_from < valid_until, "agreement: valid_from must be before valid_until")
    _require(isinstance(doc["text"], str) and doc["text"].strip() != "", "agreement.text: missing")
    canonical_bytes(doc)
    return doc


def build_agreement(
    *, parties: list[dict], scope: list[str], valid_from: datetime, valid_until: datetime, text: str, id: str | None = None,
) -> dict:
    doc = {
        "format": AGREEMENT_FORMAT,
        "id": id or str(uuid.uuid4()),
        "parties": sorted(({"region_code": p["region_code"], "name": p["name"], "key_id": p["key_id"]} for p in parties),
                          key=lambda p: p["region_code"]),
        "scope": sorted(set(scope)),
        "valid_from": format_time(valid_from),
        "valid_until": format_time(valid_until),
        "text": text,
    }
    return validate_agreement(doc)


def agreement_bytes(doc: dict) -> bytes:
    return canonical_bytes(validate_agreement(doc))


def sign_agreement(doc: dict, private_key: Ed25519PrivateKey) -> str:
    return _sign(private_key, agreement_bytes(doc))


def verify_agreement(doc: dict, signature: str | None, public_raw: bytes) -> None:
    _verify(public_raw, agreement_bytes(doc), signature, what="agreement signature")


def agreement_in_force(doc: dict, now: datetime) -> bool:
    return parse_time(doc["valid_from"]) <= now < parse_time(doc["valid_until"])


# Signed documents in results ---------------------------------------------------------------

def sign_document(doc: dict, private_key: Ed25519PrivateKey) -> dict:
    """{"document", "signature", "key_id"}: how a result that is itself a signed statement (an
    assignment, a replication batch receipt) travels. Signature over the document's canonical bytes."""
    return {"document": doc, "signature": _sign(private_key, canonical_bytes(doc)), "key_id": key_id(public_raw_of(private_key))}


def verify_document(signed, public_raw: bytes) -> dict:
    """The document of a {"document", "signature", "key_id"} object signed under `public_raw`;
    Malformed if the shape is wrong, BadSignature if the key id or signature does not match."""
    _require(isinstance(signed, dict) and set(signed) == {"document", "signature", "key_id"}, "signed document: needs document, signature, key_id")
    _require(isinstance(signed["document"], dict), "signed document: document is not an object")
    if signed["key_id"] != key_id(public_raw):
        raise BadSignature(f"signed document: key {signed['key_id']} is not {key_id(public_raw)}")
    _verify(public_raw, canonical_bytes(signed["document"]), signed["signature"], what="document signature")
    return signed["document"]


# Federation token ----------------------------------------------------------------------------

def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def build_token_payload(
    *, iss: str, aud: str, sub: str, session: str | int, issued_at: datetime,
    lifetime: int = TOKEN_MAX_LIFETIME_SECONDS, jti: str | None = None,
) -> dict:
    """iat and exp are integer Unix seconds (UTC)."""
    iat = _epoch(issued_at)
    payload = {"format": TOKEN_FORMAT, "iss": iss, "aud": aud, "sub": sub, "session": session,
               "iat": iat, "exp": iat + lifetime, "jti": jti or new_nonce()}
    validate_token_payload(payload)
    return payload


def validate_token_payload(payload) -> dict:
    def need(condition, detail):
        _require(condition, detail, TokenError)

    need(isinstance(payload, dict) and set(payload) == TOKEN_KEYS, f"token: fields must be exactly {sorted(TOKEN_KEYS)}")
    need(payload["format"] == TOKEN_FORMAT, f"token: format is not {TOKEN_FORMAT}")
    need(isinstance(payload["iss"], str) and bool(_REGION.match(payload["iss"])), "token.iss: not a region code")
    need(isinstance(payload["aud"], str) and bool(_REGION.match(payload["aud"])), "token.aud: not a region code")
    need(isinstance(payload["sub"], str) and bool(_SUBJECT.match(payload["sub"])), "token.sub: not an expert id")
    session = payload["session"]
    need((isinstance(session, str) and bool(_SUBJECT.match(session)))
         or (isinstance(session, int) and not isinstance(session, bool) and session >= 0), "token.session: not a session reference")
    for name in ("iat", "exp"):
        need(isinstance(payload[name], int) and not isinstance(payload[name], bool) and payload[name] >= 0, f"token.{name}: not Unix seconds")
    need(isinstance(payload["jti"], str) and bool(_NONCE.match(payload["jti"])), "token.jti: not 32 lowercase hex digits")
    if not 0 < payload["exp"] - payload["iat"] <= TOKEN_MAX_LIFETIME_SECONDS:
        raise TokenError(f"token: exp must be after iat and at most {TOKEN_MAX_LIFETIME_SECONDS} s later", code="token_lifetime")
    return payload


def sign_token(payload: dict, private_key: Ed25519PrivateKey) -> str:
    """"<b64url(canonical payload)>.<b64url(Ed25519 over those payload bytes)>"."""
    data = canonical_bytes(validate_token_payload(payload))
    return f"{b64url_encode(data)}.{_sign(private_key, data)}"


def _split_token(token) -> tuple[bytes, str, dict]:
    if not isinstance(token, str) or len(token) > 4096 or token.count(".") != 1:
        raise TokenError("token: not <payload>.<signature>")
    head, signature = token.split(".")
    data = b64url_decode(head, what="token payload", error=TokenError)
    payload = _loads(data, what="token payload", error=TokenError)
    if canonical_bytes(payload) != data:
        raise TokenError("token payload: not canonical JSON")
    return data, signature, validate_token_payload(payload)


def peek_token(token) -> dict:
    """The payload, format-checked but NOT verified: only to find which partner's key to verify with."""
    return _split_token(token)[2]


def verify_token(token, *, public_raw: bytes, audience: str, now: datetime) -> dict:
    """The payload of a token signed under `public_raw`, addressed to `audience`, in force at `now`.

    The caller has looked the issuer up (peek_token → its partner's key, else token_unknown_issuer),
    and afterwards checks the agreement, that the jti is used once, and the assignment."""
    data, signature, payload = _split_token(token)
    _verify(public_raw, data, signature, what="token signature", token=True)
    if payload["aud"] != audience:
        raise TokenError(f"token: addressed to {payload['aud']}, not {audience}", code="token_wrong_audience")
    at = _epoch(now)
    if at >= payload["exp"]:
        raise TokenError("token: expired", code="token_expired")
    if payload["iat"] > at + TOKEN_CLOCK_SKEW_SECONDS:
        raise TokenError("token: issued in the future", code="token_not_yet_valid")
    return payload


def token_expires_at(payload: dict) -> datetime:
    return datetime.fromtimestamp(payload["exp"], UTC)


def backoff_seconds(attempts: int, *, base: int = 5, cap: int = 600) -> int:
    """Delay before the next delivery attempt after `attempts` failed ones: 5 s × 2^(n-1), at most 10 min."""
    return min(cap, base * 2 ** max(0, min(attempts - 1, 20)))


def after(moment: datetime, seconds: int) -> datetime:
    return moment + timedelta(seconds=seconds)
