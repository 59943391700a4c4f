"""The platform's receipt (投标回执) for an accepted bid, checked on the bidder's machine.

A receipt is `{"statement": {...}, "signature": "<Ed25519, 128 hex digits>", "key_id": "<16 hex>"}`;
the signature covers the canonical JSON of the statement (sorted keys, no whitespace, UTF-8, as in
the audit trail). docs/bid-upload-api.md describes it. Nothing here imports Django."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bidding import sealing
from bidding.tool.messages import ToolError

# Asia/Shanghai: UTC+8 all year (no daylight saving since 1991); fixed, so no tz database is needed.
SHANGHAI = timezone(timedelta(hours=8), "CST")


class ReceiptError(ToolError):
    """A receipt that does not verify, or does not describe the file that was uploaded."""


def canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def key_id_of(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def platform_public_key(document: object) -> tuple[Ed25519PublicKey, str]:
    """The key of GET /api/v1/platform/key/: `{"algorithm": "Ed25519", "key_id", "public_key"}`."""
    try:
        if document["algorithm"] != "Ed25519":
            raise ValueError(f"algorithm {document['algorithm']!r}")
        raw = bytes.fromhex(document["public_key"])
        key = Ed25519PublicKey.from_public_bytes(raw)
    except (KeyError, TypeError, ValueError) as error:
        raise ReceiptError("平台公钥格式错误", f"the platform key is malformed: {error}") from None
    key_id = key_id_of(raw)
    if document.get("key_id") != key_id:
        raise ReceiptError(
            "平台公钥的编号与公钥不符", f"the platform key's id {document.get('key_id')!r} is not that of its public key ({key_id})"
        )
    return key, key_id


def verify(receipt: object, platform_key: object) -> dict:
    """The receipt's statement, once its signature verifies under the platform's key."""
    key, key_id = platform_public_key(platform_key)
    try:
        statement, signature, signed_by = receipt["statement"], bytes.fromhex(receipt["signature"]), receipt["key_id"]
        if not isinstance(statement, dict) or statement.get("type") != "etender-bid-receipt":
            raise ValueError("not an etender-bid-receipt statement")
    except (KeyError, TypeError, ValueError) as error:
        raise ReceiptError("回执格式错误", f"the receipt is malformed: {error}") from None
    if signed_by != key_id:
        raise ReceiptError(
            f"回执由平台密钥 {signed_by} 签署，而平台当前公布的密钥是 {key_id}",
            f"the receipt names platform key {signed_by}, but the platform publishes key {key_id}",
        )
    try:
        key.verify(signature, canonical(statement))
    except InvalidSignature:
        raise ReceiptError("回执的签名无效：回执被改动，或不是该平台签发的", "the receipt's signature does not verify under the platform key") from None
    return statement


def check_statement(statement: dict, *, header: sealing.SealedHeader, size: int, sha256: str) -> None:
    """The receipt speaks of this very file: its size, SHA-256, ciphertext, keys and binding."""
    expected = {
        "sealed_size": size,
        "sealed_sha256": sha256,
        "ciphertext_sha256": header.ciphertext_sha256,
        "signer_key_fingerprint": header.signer_key_fingerprint,
        "tender": header.binding.tender,
        "lot": header.binding.lot,
        "bidder": header.binding.bidder,
    }
    found = {
        "sealed_size": statement.get("sealed_size"),
        "sealed_sha256": statement.get("sealed_sha256"),
        "ciphertext_sha256": statement.get("ciphertext_sha256"),
        "signer_key_fingerprint": statement.get("signer_key_fingerprint"),
        "tender": _id(statement.get("tender")),
        "lot": _id(statement.get("lot")),
        "bidder": _id(statement.get("bidder")),
    }
    wrong = [name for name in expected if found[name] != expected[name]]
    bidder_keys = {r.key_fingerprint for r in header.recipients if r.role == "bidder"}
    if statement.get("decryption_key_fingerprint") not in bidder_keys:
        wrong.append("decryption_key_fingerprint")
    if wrong:
        details = ", ".join(f"{name}: receipt {found.get(name, statement.get(name))!r}, file {expected.get(name, sorted(bidder_keys))!r}" for name in wrong)
        raise ReceiptError(
            f"回执所记载的内容与本地的密封投标文件不符（{', '.join(wrong)}）", f"the receipt does not describe this sealed file: {details}"
        )


def _id(value) -> str | None:
    """`{"id": 12, ...}` or a bare id, as the binding's text."""
    if isinstance(value, dict):
        value = value.get("id")
    return None if value is None else str(value)


def local_time(value: str | None) -> str:
    """An API time (ISO 8601, UTC) in Asia/Shanghai: `2026-03-02 09:00:07（北京时间）`."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") + "（北京时间）"
