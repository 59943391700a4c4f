"""Venue booking and assignment messages, version 1 (docs/cross-region.md "Booking and assignment").

Pure: no Django. Bodies of the booking.* messages and the partner's signed assignment document
(etender-assignment/1), built and checked here; the envelope and signatures are crossregion/protocol.py.
Every check raises protocol.Malformed with a detail naming the field.
"""

from __future__ import annotations

import re
import uuid as uuid_module

from crossregion import protocol

ASSIGNMENT_FORMAT = "etender-assignment/1"
DRAWING_ALGORITHM = "etender-drawing-v1"
NAMES_FORMAT = "etender-assignment-names/1"
TYPES = ("booking.request", "booking.approve", "booking.reject", "booking.propose", "booking.accept", "booking.cancel", "booking.replace",
         "booking.names")
MAX_SEATS = 99
_SPECIALTY = re.compile(r"\A[A-Z][0-9A-Z]{1,7}\Z")
_CREDIT = re.compile(r"\A[0-9A-Z]{18}\Z")
_HEX64 = re.compile(r"\A[0-9a-f]{64}\Z")
_require = protocol._require


def check_uuid(value, what: str = "booking") -> str:
    _require(isinstance(value, str), f"{what}: not a uuid")
    try:
        parsed = uuid_module.UUID(value)
    except ValueError:
        raise protocol.Malformed(f"{what}: not a uuid") from None
    _require(str(parsed) == value, f"{what}: not a lowercase canonical uuid")
    return value


def _int(value, what: str, minimum: int = 0, maximum: int = MAX_SEATS) -> int:
    _require(isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= maximum, f"{what}: not an integer in {minimum}..{maximum}")
    return value


def _text(value, what: str, *, max_length: int = 300, empty: bool = True) -> str:
    _require(isinstance(value, str) and len(value) <= max_length and (empty or bool(value.strip())), f"{what}: not a text of at most {max_length} characters")
    return value


def check_seats(value, what: str = "seats") -> list[dict]:
    """[{"specialty": "A08", "count": 2}, ...]: at least one, specialties distinct, counts >= 1."""
    _require(isinstance(value, list) and 0 < len(value) <= 20, f"{what}: a list of 1..20 specialties")
    seen = set()
    for n, seat in enumerate(value):
        _require(isinstance(seat, dict) and set(seat) == {"specialty", "count"}, f"{what}[{n}]: needs specialty and count")
        _require(isinstance(seat["specialty"], str) and bool(_SPECIALTY.match(seat["specialty"])), f"{what}[{n}].specialty: not a specialty code")
        _require(seat["specialty"] not in seen, f"{what}[{n}].specialty: repeated")
        seen.add(seat["specialty"])
        _int(seat["count"], f"{what}[{n}].count", 1)
    _require(sum(seat["count"] for seat in value) <= MAX_SEATS, f"{what}: too many seats")
    return value


def check_terms(value, what: str = "terms") -> dict:
    """{"starts_at", "ends_at", "seats"}: the session's slot and the seats asked for."""
    _require(isinstance(value, dict) and {"starts_at", "ends_at", "seats"} <= set(value), f"{what}: needs starts_at, ends_at, seats")
    starts = protocol.parse_time(value["starts_at"], what=f"{what}.starts_at")
    ends = protocol.parse_time(value["ends_at"], what=f"{what}.ends_at")
    _require(ends > starts, f"{what}: ends_at is not after starts_at")
    check_seats(value["seats"], f"{what}.seats")
    return value


def _party(value, what: str) -> dict:
    _require(isinstance(value, dict) and set(value) == {"credit_code", "name"}, f"{what}: needs credit_code and name")
    _require(isinstance(value["credit_code"], str) and bool(_CREDIT.match(value["credit_code"])), f"{what}.credit_code: not 18 characters")
    _text(value["name"], f"{what}.name", max_length=200)
    return value


def check_request(body) -> dict:
    """The body of booking.request (the host asks the partner for seats)."""
    _require(isinstance(body, dict), "body: not an object")
    keys = {"booking", "revision", "tender", "lot", "terms", "panel", "parties"}
    _require(set(body) == keys, "body: needs exactly " + ", ".join(sorted(keys)))
    check_uuid(body["booking"])
    _int(body["revision"], "revision", 1, 10_000)
    tender, lot = body["tender"], body["lot"]
    _require(isinstance(tender, dict) and set(tender) == {"code", "title"}, "tender: needs code and title")
    _text(tender["code"], "tender.code", max_length=64, empty=False)
    _text(tender["title"], "tender.title")
    _require(isinstance(lot, dict) and set(lot) == {"id", "label"}, "lot: needs id and label")
    _text(lot["id"], "lot.id", max_length=32, empty=False)
    _text(lot["label"], "lot.label")
    check_terms(body["terms"])
    panel = body["panel"]
    _require(isinstance(panel, dict) and set(panel) == {"home_experts", "tenderer_representatives"}, "panel: needs home_experts and tenderer_representatives")
    _int(panel["home_experts"], "panel.home_experts")
    _int(panel["tenderer_representatives"], "panel.tenderer_representatives")
    parties = body["parties"]
    _require(isinstance(parties, dict) and set(parties) == {"tenderer", "agency", "bidders"}, "parties: needs tenderer, agency, bidders")
    _party(parties["tenderer"], "parties.tenderer")
    if parties["agency"] is not None:
        _party(parties["agency"], "parties.agency")
    _require(isinstance(parties["bidders"], list) and len(parties["bidders"]) <= 1000, "parties.bidders: a list")
    for n, bidder in enumerate(parties["bidders"]):
        _party(bidder, f"parties.bidders[{n}]")
    return body


def recusal_codes(parties: dict) -> tuple[set[str], str]:
    """(bidders with the agency, tenderer) by credit code, as the drawing's eligibility takes them."""
    bidders = {bidder["credit_code"] for bidder in parties["bidders"]}
    if parties.get("agency"):
        bidders.add(parties["agency"]["credit_code"])
    return bidders, parties["tenderer"]["credit_code"]


# The signed assignment -----------------------------------------------------------------------

ASSIGNMENT_KEYS = frozenset({"format", "booking", "version", "host", "partner", "lot", "session", "drawing", "seats", "issued_at"})
SEAT_KEYS = frozenset({"specialty", "expert", "public_jwk", "round"})


def build_assignment(*, booking: str, version: int, host: str, partner: str, lot: str, starts_at: str, ends_at: str,
                     drawing: dict, seats: list[dict], issued_at: str) -> dict:
    doc = {
        "format": ASSIGNMENT_FORMAT, "booking": booking, "version": version, "host": host, "partner": partner, "lot": lot,
        "session": {"starts_at": starts_at, "ends_at": ends_at}, "drawing": drawing, "seats": seats, "issued_at": issued_at,
    }
    return validate_assignment(doc)


def validate_assignment(doc) -> dict:
    """The assignment's shape: who (host, partner), for what (booking, lot, session), by which
    drawing (id, algorithm, seed commitment, request+pool context hash, request), and per seat the
    expert's pseudonymous id, specialty, the round that drew them and the signing public key (JWK)."""
    _require(isinstance(doc, dict) and set(doc) == ASSIGNMENT_KEYS, "assignment: needs exactly " + ", ".join(sorted(ASSIGNMENT_KEYS)))
    _require(doc["format"] == ASSIGNMENT_FORMAT, f"assignment.format: not {ASSIGNMENT_FORMAT}")
    check_uuid(doc["booking"], "assignment.booking")
    _int(doc["version"], "assignment.version", 1, 10_000)
    protocol.check_region(doc["host"], "assignment.host")
    protocol.check_region(doc["partner"], "assignment.partner")
    _text(doc["lot"], "assignment.lot", max_length=32, empty=False)
    session = doc["session"]
    _require(isinstance(session, dict) and set(session) == {"starts_at", "ends_at"}, "assignment.session: needs starts_at and ends_at")
    protocol.parse_time(session["starts_at"], what="assignment.session.starts_at")
    protocol.parse_time(session["ends_at"], what="assignment.session.ends_at")
    drawing = doc["drawing"]
    _require(isinstance(drawing, dict) and set(drawing) == {"id", "algorithm", "commitment", "context", "request"}, "assignment.drawing: needs id, algorithm, commitment, context, request")
    _int(drawing["id"], "assignment.drawing.id", 1, 2**63)
    _require(drawing["algorithm"] == DRAWING_ALGORITHM, f"assignment.drawing.algorithm: not {DRAWING_ALGORITHM}")
    for name in ("commitment", "context"):
        _require(isinstance(drawing[name], str) and bool(_HEX64.match(drawing[name])), f"assignment.drawing.{name}: not 64 lowercase hex")
    _require(isinstance(drawing["request"], dict), "assignment.drawing.request: not an object")
    seats = doc["seats"]
    _require(isinstance(seats, list) and 0 < len(seats) <= MAX_SEATS, "assignment.seats: a non-empty list")
    experts = set()
    for n, seat in enumerate(seats):
        _require(isinstance(seat, dict) and set(seat) == SEAT_KEYS, f"assignment.seats[{n}]: needs " + ", ".join(sorted(SEAT_KEYS)))
        _require(isinstance(seat["specialty"], str) and bool(_SPECIALTY.match(seat["specialty"])), f"assignment.seats[{n}].specialty: not a specialty code")
        _require(isinstance(seat["expert"], str) and bool(protocol._SUBJECT.match(seat["expert"])), f"assignment.seats[{n}].expert: not a pseudonymous id")
        _require(seat["expert"] not in experts, f"assignment.seats[{n}].expert: repeated")
        experts.add(seat["expert"])
        _require(seat["public_jwk"] is None or isinstance(seat["public_jwk"], dict), f"assignment.seats[{n}].public_jwk: not an object or null")
        _int(seat["round"], f"assignment.seats[{n}].round", 0, 10_000)
    protocol.parse_time(doc["issued_at"], what="assignment.issued_at")
    protocol.canonical_bytes(doc)
    return doc


def seats_match(doc: dict, seats: list[dict]) -> bool:
    """The assignment fills exactly the seats asked for (specialty by specialty)."""
    wanted: dict[str, int] = {}
    for seat in seats:
        wanted[seat["specialty"]] = wanted.get(seat["specialty"], 0) + int(seat["count"])
    given: dict[str, int] = {}
    for seat in doc["seats"]:
        given[seat["specialty"]] = given.get(seat["specialty"], 0) + 1
    return wanted == given


# The names at the result -----------------------------------------------------------------------

NAMES_KEYS = frozenset({"format", "booking", "version", "drawing", "names", "issued_at"})


def build_names(*, booking: str, version: int, drawing_id: int, commitment: str, seed: str, names: list[dict], issued_at: str) -> dict:
    doc = {"format": NAMES_FORMAT, "booking": booking, "version": version,
           "drawing": {"id": drawing_id, "commitment": commitment, "seed": seed}, "names": names, "issued_at": issued_at}
    return validate_names(doc)


def validate_names(doc) -> dict:
    """The partner's names of the assigned experts at the result, with its drawing's revealed seed
    (whose SHA-256 is the commitment the assignment named)."""
    _require(isinstance(doc, dict) and set(doc) == NAMES_KEYS, "names: needs exactly " + ", ".join(sorted(NAMES_KEYS)))
    _require(doc["format"] == NAMES_FORMAT, f"names.format: not {NAMES_FORMAT}")
    check_uuid(doc["booking"], "names.booking")
    _int(doc["version"], "names.version", 1, 10_000)
    drawing = doc["drawing"]
    _require(isinstance(drawing, dict) and set(drawing) == {"id", "commitment", "seed"}, "names.drawing: needs id, commitment, seed")
    _int(drawing["id"], "names.drawing.id", 1, 2**63)
    for name in ("commitment", "seed"):
        _require(isinstance(drawing[name], str) and bool(_HEX64.match(drawing[name])), f"names.drawing.{name}: not 64 lowercase hex")
    _require(isinstance(doc["names"], list) and 0 < len(doc["names"]) <= MAX_SEATS, "names.names: a non-empty list")
    for n, entry in enumerate(doc["names"]):
        _require(isinstance(entry, dict) and set(entry) == {"expert", "name"}, f"names.names[{n}]: needs expert and name")
        _require(isinstance(entry["expert"], str) and bool(protocol._SUBJECT.match(entry["expert"])), f"names.names[{n}].expert: not a pseudonymous id")
        _text(entry["name"], f"names.names[{n}].name", max_length=100, empty=False)
    protocol.parse_time(doc["issued_at"], what="names.issued_at")
    return doc
