"""A bidder's answer to a clarification (澄清答复) and what its signature covers, as a
specification (no Django). docs/evaluation-clarifications.md.

The answer statement is the JSON object

    {"format": "etender-clarification-answer", "version": 1,
     "session": <evaluation session id>, "lot": <lot id>, "number": <clarification number in the session>,
     "bid": <bid id>, "question_sha256": SHA-256 of the question's UTF-8 text (hex),
     "answer": <the answer text, normalised>,
     "attachments": [{"name": ..., "size": <bytes>, "sha256": <hex>}, ...]  sorted by (name, sha256)}

and its hash is SHA-256 of its canonical JSON (audit/chain.py: keys sorted, no whitespace, UTF-8,
no floats), lowercase hex. The bidder signs the 64 ASCII characters of that hash with ECDSA P-256
/ SHA-256 using its registered signing key, exactly as it signs the opening record
(opening/record_signing.py); raw r ‖ s (what WebCrypto gives) or DER, as base64 (or raw r ‖ s as
128 hex digits).

Normalisation, the same in the browser and the bid tool: the answer's line breaks become "\\n" (a
browser sends "\\r\\n") and surrounding white space is dropped; an attachment's name is its last
path component with surrounding white space dropped.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import re

from audit.chain import canonical_json

FORMAT = "etender-clarification-answer"
VERSION = 1
MAX_NAME_CHARS = 200
_HEX = re.compile(r"[0-9a-f]{64}")
_HEX_SIGNATURE = re.compile(r"[0-9a-fA-F]{128}")
_B64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _(s):
    return s


class StatementError(ValueError):
    """Input that cannot go into a statement. `msgid` is a Chinese message id for gettext."""

    def __init__(self, msgid: str, **params):
        super().__init__(msgid % params if params else msgid)
        self.msgid, self.params = msgid, params


def sha256_text(text: str) -> str:
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()


def normalise_answer(text: str) -> str:
    if not isinstance(text, str):
        raise StatementError(_("答复内容必须是文本。"))
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def clean_name(name: str) -> str:
    """An attachment's name as stored and signed: the last path component, trimmed."""
    if not isinstance(name, str):
        raise StatementError(_("附件名称必须是文本。"))
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name in (".", "..") or _CONTROL.search(name):
        raise StatementError(_("附件名称无效：%(name)s"), name=name)
    if len(name) > MAX_NAME_CHARS:
        raise StatementError(_("附件名称过长（最多 %(max)s 个字符）。"), max=MAX_NAME_CHARS)
    return name


def attachment_entries(attachments: list[dict]) -> list[dict]:
    """[{"name", "size", "sha256"}] checked, names cleaned, sorted by (name, sha256); a name twice is refused."""
    entries = []
    for item in attachments:
        size, digest = item.get("size"), item.get("sha256")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise StatementError(_("附件大小无效。"))
        if not isinstance(digest, str) or not _HEX.fullmatch(digest):
            raise StatementError(_("附件的 SHA-256 必须是 64 位小写十六进制。"))
        entries.append({"name": clean_name(item.get("name")), "size": size, "sha256": digest})
    entries.sort(key=lambda e: (e["name"], e["sha256"]))
    names = [e["name"] for e in entries]
    for a, b in itertools.pairwise(names):
        if a == b:
            raise StatementError(_("附件名称重复：%(name)s"), name=a)
    return entries


def build_statement(*, session: int, lot: int, number: int, bid: int, question: str, answer: str, attachments: list[dict]) -> dict:
    return {
        "format": FORMAT, "version": VERSION, "session": int(session), "lot": int(lot), "number": int(number), "bid": int(bid),
        "question_sha256": sha256_text(question), "answer": normalise_answer(answer), "attachments": attachment_entries(attachments),
    }


def statement_text(statement: dict) -> str:
    return canonical_json(statement)


def statement_hash(statement: dict) -> str:
    return hashlib.sha256(statement_text(statement).encode("utf-8")).hexdigest()


def decode_signature(signature: str) -> bytes:
    """Raw r ‖ s (64 bytes) from base64 (raw or DER, standard or URL-safe) or 128 hex digits."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    if not isinstance(signature, str) or not signature.strip() or len(signature) > 300:
        raise StatementError(_("签名格式无效。"))
    text = signature.strip()
    if _HEX_SIGNATURE.fullmatch(text):
        return bytes.fromhex(text)
    if not _B64.fullmatch(text):
        raise StatementError(_("签名格式无效。"))
    text = text.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise StatementError(_("签名格式无效。")) from None
    if len(raw) == 64:
        return raw
    try:
        r, s = decode_dss_signature(raw)
    except ValueError:
        raise StatementError(_("签名格式无效。")) from None
    if r.bit_length() > 256 or s.bit_length() > 256:
        raise StatementError(_("签名格式无效。"))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")
