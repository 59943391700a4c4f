"""The audit chain as a specification: canonical event bodies and their hash chain.

No Django here, so the stand-alone verifier and the platform share one definition.

An event body is canonical JSON (RFC 8785 for the values we allow: strings, integers, booleans,
null, arrays and objects; keys sorted, no insignificant whitespace, UTF-8). Floats are refused so
that every implementation serialises a body to the same bytes.

    hash_n = SHA-256( bytes.fromhex(hash_{n-1}) || body_n )      hash_0 = 32 zero bytes

Event n's body names its own sequence number, so a row moved, dropped or inserted breaks the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS_HASH = "0" * 64


class CanonicalJSONError(ValueError):
    pass


def _check(value, path="$"):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise CanonicalJSONError(f"{path}: integer outside the interoperable range")
        return
    if isinstance(value, float):
        raise CanonicalJSONError(f"{path}: floats are not allowed in audit bodies; use integers or strings")
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalJSONError(f"{path}: object keys must be strings")
            _check(item, f"{path}.{key}")
        return
    raise CanonicalJSONError(f"{path}: {type(value).__name__} is not a JSON value")


def canonical_json(value) -> str:
    _check(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, body: str | bytes) -> str:
    if isinstance(body, str):
        body = body.encode("utf-8")
    return hashlib.sha256(bytes.fromhex(prev_hash) + body).hexdigest()


@dataclass(frozen=True)
class StoredEvent:
    """One row as stored: the body, the hashes, and the columns kept beside it for searching."""

    seq: int
    prev_hash: str
    hash: str
    body: str
    columns: dict


# Columns stored beside the body, and where each lives inside the body.
COLUMN_PATHS = {
    "time": ("time",),
    "actor_id": ("actor", "id"),
    "actor_name": ("actor", "name"),
    "role": ("actor", "role"),
    "organisation_id": ("actor", "org"),
    "ip": ("ip",),
    "action": ("action",),
    "object_type": ("object", "type"),
    "object_id": ("object", "id"),
    "tender_id": ("tender",),
}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    count: int
    head: str
    bad_seq: int | None = None
    reason: str = ""


def _dig(body: dict, path: tuple[str, ...]):
    for key in path:
        body = body.get(key) if isinstance(body, dict) else None
    return body


def verify_events(events: Iterable[StoredEvent], *, start_hash: str = GENESIS_HASH, start_seq: int = 1) -> Verdict:
    """Walk the chain from `start_seq`; return the first event that does not fit, and why."""
    prev = start_hash
    expected_seq = start_seq
    count = 0
    for event in events:
        if event.seq != expected_seq:
            return Verdict(False, count, prev, expected_seq, f"sequence gap: expected {expected_seq}, found {event.seq}")
        if event.prev_hash != prev:
            return Verdict(False, count, prev, event.seq, "previous hash does not match the chain")
        if chain_hash(prev, event.body) != event.hash:
            return Verdict(False, count, prev, event.seq, "hash does not match the stored body")
        try:
            body = json.loads(event.body)
        except ValueError:
            return Verdict(False, count, prev, event.seq, "body is not valid JSON")
        if body.get("seq") != event.seq:
            return Verdict(False, count, prev, event.seq, "body names a different sequence number")
        for column, value in event.columns.items():
            if _dig(body, COLUMN_PATHS[column]) != value:
                return Verdict(False, count, prev, event.seq, f"column {column!r} differs from the signed body")
        prev = event.hash
        expected_seq += 1
        count += 1
    return Verdict(True, count, prev)
