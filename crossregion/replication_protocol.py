"""Replication batches (message type "replication.batch"), as a specification: no Django.

The host of an evaluation session pushes what happened in it to a partner platform as signed,
numbered batches (docs/cross-region.md, "Replication"). A batch body is

    {"session": {"host_region": "441900", "lot": 17, "room": "evaluation-17"},
     "batch_seq": 1, 2, ...,
     "prev_batch_sha256": SHA-256 of the previous batch's body (canonical JSON), or 64 zeros,
     "items": [item, ...]}                            (at least one item)

and an item is one of

    {"kind": "session", "title", "lot_name", "starts_at", "ends_at", "panel": [{"seat", "kind", "venue", "specialty"}]}
    {"kind": "event", "seq", "type", "payload", "at"}        a room event (opening.RoomEvent), seq 1, 2, ... with no gap
    {"kind": "report", "version", "statement", "statement_sha256", "pdf_sha256", "pdf_base64", "finalised_at"}
    {"kind": "signature", "version", "seat", "venue", "key_fingerprint", "public_jwk", "signature", "signed_at"}
    {"kind": "dissent", "version", "seat", "venue", "text", "written_at"}

The receiver checks, besides the envelope (the inbox): the shape; that the host is the sender;
that batch_seq is the next one (a seq already applied with the same body hash is a duplicate, with
another body "tampered"); that prev_batch_sha256 is the hash of the last batch applied; that the
events continue the room's numbering; that the report's statement hashes to statement_sha256 and
its PDF to pdf_sha256; and that every signature is the ECDSA P-256 signature of that hash by the
given key (evaluation/report_signing.py), whose fingerprint is the one given.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from bidding import keyfile
from crossregion import protocol
from evaluation import report_signing
from evaluation.report_statement import statement_hash

MESSAGE_TYPE = "replication.batch"
ZERO_HASH = "0" * 64
MAX_BATCH_BODY_BYTES = 6 * 1024 * 1024  # canonical body; the wire limit for replication.* is 8 MiB
MAX_BATCH_ITEMS = 500
_HEX64 = re.compile(r"[0-9a-f]{64}")
_KINDS = {
    "session": {"kind", "title", "lot_name", "starts_at", "ends_at", "panel"},
    "event": {"kind", "seq", "type", "payload", "at"},
    "report": {"kind", "version", "statement", "statement_sha256", "pdf_sha256", "pdf_base64", "finalised_at"},
    "signature": {"kind", "version", "seat", "venue", "key_fingerprint", "public_jwk", "signature", "signed_at"},
    "dissent": {"kind", "version", "seat", "venue", "text", "written_at"},
}


class ReplicationError(ValueError):
    """A batch refused, with a stable code: malformed, wrong_host, out_of_order, tampered,
    broken_chain, event_gap, bad_report_hash, bad_pdf_hash, report_mismatch, bad_key,
    bad_key_fingerprint, bad_member_signature, no_report."""

    def __init__(self, detail: str, *, code: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


def room_of(lot: int) -> str:
    return f"evaluation-{lot}"


def idempotency_key(lot: int, batch_seq: int, partner_region: str) -> str:
    """The outbox key of one batch: the same on every retry, so the partner applies it once."""
    return f"replication:{lot}:{partner_region}:{batch_seq}"


def build_body(*, host_region: str, lot: int, batch_seq: int, prev_batch_sha256: str, items: list[dict]) -> dict:
    return {"session": {"host_region": host_region, "lot": lot, "room": room_of(lot)}, "batch_seq": batch_seq,
            "prev_batch_sha256": prev_batch_sha256, "items": items}


def body_sha256(body: dict) -> str:
    return protocol.body_hash(body)


def item_sha256(item: dict) -> str:
    return hashlib.sha256(protocol.canonical_bytes(item)).hexdigest()


def item_size(item: dict) -> int:
    return len(protocol.canonical_bytes(item)) + 1


def pdf_item_fields(pdf: bytes) -> dict:
    return {"pdf_base64": base64.b64encode(pdf).decode("ascii"), "pdf_sha256": hashlib.sha256(pdf).hexdigest()}


def pdf_bytes(item: dict) -> bytes:
    try:
        return base64.b64decode(item["pdf_base64"], validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ReplicationError("report: pdf_base64 is not base64", code="malformed") from None


def _int(value, what: str, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ReplicationError(f"{what}: an integer ≥ {minimum} is required", code="malformed")
    return value


def _str(value, what: str) -> str:
    if not isinstance(value, str):
        raise ReplicationError(f"{what}: a string is required", code="malformed")
    return value


def _hex(value, what: str) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise ReplicationError(f"{what}: 64 lowercase hex digits are required", code="malformed")
    return value


def check_shape(body: object, *, host_region: str) -> dict:
    """The batch's header, checked: {"host_region", "lot", "room", "batch_seq", "prev_batch_sha256"}."""
    if not isinstance(body, dict) or set(body) != {"session", "batch_seq", "prev_batch_sha256", "items"}:
        raise ReplicationError("body: session, batch_seq, prev_batch_sha256 and items are required (and nothing else)", code="malformed")
    session = body["session"]
    if not isinstance(session, dict) or set(session) != {"host_region", "lot", "room"}:
        raise ReplicationError("session: host_region, lot and room are required", code="malformed")
    lot = _int(session["lot"], "session.lot", 1)
    if session["room"] != room_of(lot):
        raise ReplicationError(f"session.room must be {room_of(lot)}", code="malformed")
    if session["host_region"] != host_region:
        raise ReplicationError(f"session.host_region {session['host_region']!r} is not the sender {host_region}", code="wrong_host")
    batch_seq = _int(body["batch_seq"], "batch_seq", 1)
    prev = _hex(body["prev_batch_sha256"], "prev_batch_sha256")
    items = body["items"]
    if not isinstance(items, list) or not items:
        raise ReplicationError("items: a non-empty list is required", code="malformed")
    if len(items) > MAX_BATCH_ITEMS:
        raise ReplicationError(f"items: at most {MAX_BATCH_ITEMS}", code="malformed")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or item.get("kind") not in _KINDS or set(item) != _KINDS[item["kind"]]:
            raise ReplicationError(f"items[{index}]: not an item of a known kind with exactly its fields", code="malformed")
    return {"host_region": host_region, "lot": lot, "room": session["room"], "batch_seq": batch_seq, "prev_batch_sha256": prev}


def check_order(header: dict, *, last_batch_seq: int, last_batch_sha256: str) -> None:
    """The batch continues the chain: the next number, and the hash of the last batch applied."""
    if header["batch_seq"] != last_batch_seq + 1:
        raise ReplicationError(f"batch {header['batch_seq']} received; the next batch is {last_batch_seq + 1}", code="out_of_order")
    if header["prev_batch_sha256"] != last_batch_sha256:
        raise ReplicationError(f"prev_batch_sha256 {header['prev_batch_sha256'][:16]}… is not the hash of batch {last_batch_seq}", code="broken_chain")


def check_items(items: list[dict], *, last_event_seq: int, known_reports: dict[int, str]) -> dict[int, str]:
    """Every item checked in order; returns the reports known afterwards ({version: statement_sha256}).

    `known_reports` are the reports already replicated (a signature may come in a later batch than
    its report)."""
    reports = dict(known_reports)
    final_hashes: list[str] = []
    expected = last_event_seq + 1
    answered: set[tuple[int, int]] = set()
    for index, item in enumerate(items):
        where = f"items[{index}]"
        kind = item["kind"]
        if kind == "session":
            for field in ("title", "lot_name", "starts_at", "ends_at"):
                _str(item[field], f"{where}.{field}")
            if not isinstance(item["panel"], list):
                raise ReplicationError(f"{where}.panel: a list is required", code="malformed")
        elif kind == "event":
            seq = _int(item["seq"], f"{where}.seq", 1)
            if seq != expected:
                raise ReplicationError(f"{where}: room event {seq} where {expected} comes next", code="event_gap")
            expected += 1
            _str(item["type"], f"{where}.type")
            _str(item["at"], f"{where}.at")
            if not isinstance(item["payload"], dict):
                raise ReplicationError(f"{where}.payload: an object is required", code="malformed")
            if item["type"] == "report.final" and isinstance(item["payload"].get("sha256"), str):
                final_hashes.append(item["payload"]["sha256"])
        elif kind == "report":
            version = _int(item["version"], f"{where}.version", 1)
            if not isinstance(item["statement"], dict):
                raise ReplicationError(f"{where}.statement: an object is required", code="malformed")
            digest = _hex(item["statement_sha256"], f"{where}.statement_sha256")
            if statement_hash(item["statement"]) != digest:
                raise ReplicationError(f"{where}: the statement does not hash to statement_sha256", code="bad_report_hash")
            if hashlib.sha256(pdf_bytes(item)).hexdigest() != _hex(item["pdf_sha256"], f"{where}.pdf_sha256"):
                raise ReplicationError(f"{where}: the PDF does not hash to pdf_sha256", code="bad_pdf_hash")
            _str(item["finalised_at"], f"{where}.finalised_at")
            if version in reports and reports[version] != digest:
                raise ReplicationError(f"{where}: report version {version} was replicated with another hash", code="report_mismatch")
            reports[version] = digest
        else:  # signature, dissent
            version = _int(item["version"], f"{where}.version", 1)
            seat = _int(item["seat"], f"{where}.seat", 1)
            _str(item["venue"], f"{where}.venue")
            if version not in reports:
                raise ReplicationError(f"{where}: report version {version} has not been replicated", code="no_report")
            if (version, seat) in answered:
                raise ReplicationError(f"{where}: seat {seat} answered twice", code="malformed")
            answered.add((version, seat))
            if kind == "dissent":
                _str(item["text"], f"{where}.text")
                _str(item["written_at"], f"{where}.written_at")
                continue
            _str(item["signed_at"], f"{where}.signed_at")
            try:
                public_key = keyfile.public_key_from_jwk(item["public_jwk"])
            except (keyfile.InvalidJWK, ValueError):
                raise ReplicationError(f"{where}.public_jwk: not a P-256 public key", code="bad_key") from None
            if keyfile.fingerprint(public_key) != item["key_fingerprint"]:
                raise ReplicationError(f"{where}: key_fingerprint is not the fingerprint of public_jwk", code="bad_key_fingerprint")
            if not report_signing.verify(public_key, reports[version], _str(item["signature"], f"{where}.signature")):
                raise ReplicationError(f"{where}: seat {seat}'s signature does not verify against the report hash", code="bad_member_signature")
    for digest in final_hashes:
        if digest not in reports.values():
            raise ReplicationError(f"the report.final event names {digest[:16]}…, not a report replicated", code="report_mismatch")
    return reports


def split(items: list[dict], *, limit: int = MAX_BATCH_BODY_BYTES, max_items: int = MAX_BATCH_ITEMS) -> list[dict]:
    """The first items that fit in one batch (at least one). Items of a "group" (a report and its
    answers) are passed as a list and go together or not at all."""
    taken: list[dict] = []
    size = 512  # the header
    for entry in items:
        group = entry if isinstance(entry, list) else [entry]
        needed = sum(item_size(item) for item in group)
        if taken and (size + needed > limit or len(taken) + len(group) > max_items):
            break
        taken.extend(group)
        size += needed
    return taken
