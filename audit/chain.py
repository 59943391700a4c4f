"""The audit chain as a specification: canonical event bodies and their hash chain.

No Django here, so the stand-alone verifier and the platform share one definition.

An event body is canonical JSON (RFC 8785 for the values we allow: strings, integers, booleans,
null, arrays and objects; keys sorted, no insignificant whitespace, UTF-8). Floats are refused so
that every implementation serialises a body to the same bytes.

    hash_n = SHA-256( bytes.fromhex(hash_{n-1}) || body_n )      hash_0 = 32 zero bytes

Event n's body names its own sequence number, so a row moved, dropped or inserted breaks the chain.
The columns stored beside the body (for searching) must agree with it. docs/audit-chain.md walks
through one event byte by byte.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

GENESIS_HASH = "0" * 64


class CanonicalJSONError(ValueError):
    pass


def _check_text(text: str, path: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise CanonicalJSONError(f"{path}: text is not valid Unicode (a lone surrogate)") from None


def _check(value, path="$"):
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str):
        _check_text(value, path)
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
            _check_text(key, path)
            _check(item, f"{path}.{key}")
        return
    raise CanonicalJSONError(f"{path}: {type(value).__name__} is not a JSON value")


def check_canonical(value) -> None:
    """Raise CanonicalJSONError, naming where, if `value` holds anything but the allowed values."""
    _check(value)


def dumps_canonical(value) -> str:
    """The canonical text of a value already checked with `check_canonical`."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value) -> str:
    _check(value)
    return dumps_canonical(value)


def chain_hash(prev_hash: str, body: str | bytes) -> str:
    if isinstance(body, str):
        body = body.encode("utf-8")
    return hashlib.sha256(bytes.fromhex(prev_hash) + body).hexdigest()


class StoredEvent(NamedTuple):
    """One row as stored: the body, the hashes, and the columns kept beside it for searching.

    `columns` is either a tuple of all COLUMNS in that order (what the platform reads), or a
    dict holding some of them by name (e.g. an export that kept only a few).
    """

    seq: int
    prev_hash: str
    hash: str
    body: str
    columns: tuple | dict


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
COLUMNS = tuple(COLUMN_PATHS)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    count: int
    head: str
    bad_seq: int | None = None
    reason: str = ""


def _dig(body, path: tuple[str, ...]):
    for key in path:
        body = body.get(key) if isinstance(body, dict) else None
    return body


def columns_of(body: dict) -> tuple:
    """The values the stored columns must hold, read from a parsed body, in COLUMNS order."""
    actor, obj = body.get("actor"), body.get("object")
    if type(actor) is not dict or type(obj) is not dict:
        return tuple(_dig(body, path) for path in COLUMN_PATHS.values())
    return (body.get("time"), actor.get("id"), actor.get("name"), actor.get("role"), actor.get("org"),
            body.get("ip"), body.get("action"), obj.get("type"), obj.get("id"), body.get("tender"))


def _column_mismatch(columns: tuple | dict, expected: tuple) -> str | None:
    named = columns.items() if isinstance(columns, dict) else zip(COLUMNS, columns, strict=True)
    for name, value in named:
        if value != expected[COLUMNS.index(name)]:
            return name
    return None


# The C scanner behind json.loads, called directly: same parser, without the per-call wrapper.
# A canonical body has no surrounding whitespace, so the value must span the whole text.
_scan_json = json.JSONDecoder().scan_once


def verify_events(
    events: Iterable[StoredEvent],
    *,
    start_hash: str = GENESIS_HASH,
    start_seq: int = 1,
    expect_head: str | None = None,
) -> Verdict:
    """Walk the chain from `start_seq`; return the first event that does not fit, and why.

    Checked for every event, in this order: its sequence number follows the previous one; its
    prev_hash is the previous event's hash; its hash is SHA-256(previous hash bytes || body);
    the body is one JSON object naming the same sequence number (an integer); every stored column
    equals the body's value. With `expect_head`, a hash seen earlier must still be on the
    chain, which catches a chain cut short after it.

    This loop is the verifier's hot path (a million events per run), hence the local names.
    """
    sha256, scan, tuple_type, int_type, dict_type = hashlib.sha256, _scan_json, tuple, int, dict
    prev, prev_bytes = start_hash, bytes.fromhex(start_hash)
    expected_seq = start_seq
    count = 0
    seen_expected_head = expect_head is None or expect_head == start_hash
    for seq, prev_hash, stored_hash, body_text, columns in events:
        if seq != expected_seq:
            return Verdict(False, count, prev, expected_seq, f"sequence gap: expected {expected_seq}, found {seq}")
        if prev_hash != prev:
            return Verdict(False, count, prev, seq, "previous hash does not match the chain")
        digest = sha256(prev_bytes + body_text.encode()).digest()
        if digest.hex() != stored_hash:
            return Verdict(False, count, prev, seq, "hash does not match the stored body")
        try:
            body, end = scan(body_text, 0)
        except (StopIteration, ValueError, RecursionError):
            end = -1
        if end != len(body_text):
            return Verdict(False, count, prev, seq, "body is not valid JSON")
        if type(body) is not dict_type:
            return Verdict(False, count, prev, seq, "body is not a JSON object")
        body_seq = body.get("seq")
        if body_seq != seq or type(body_seq) is not int_type:
            return Verdict(False, count, prev, seq, "body names a different sequence number")
        get = body.get
        actor, obj = get("actor"), get("object")
        if type(actor) is dict_type and type(obj) is dict_type:  # columns_of(body), inlined
            expected = (get("time"), actor.get("id"), actor.get("name"), actor.get("role"), actor.get("org"),
                        get("ip"), get("action"), obj.get("type"), obj.get("id"), get("tender"))
        else:
            expected = columns_of(body)
        if type(columns) is not tuple_type or columns != expected:
            column = _column_mismatch(columns, expected)
            if column is not None:
                return Verdict(False, count, prev, seq, f"column {column!r} differs from the signed body")
        prev, prev_bytes = stored_hash, digest
        expected_seq += 1
        count += 1
        if not seen_expected_head and stored_hash == expect_head:
            seen_expected_head = True
    if not seen_expected_head:
        return Verdict(False, count, prev, None, f"expected head {expect_head} is not on the chain (cut short?)")
    return Verdict(True, count, prev)
