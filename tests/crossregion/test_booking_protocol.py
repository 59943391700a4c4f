"""crossregion/booking_protocol.py (pure): the booking.request body and the assignment document."""

import copy

import pytest

from crossregion import booking_protocol as bp
from crossregion import protocol

CODE = "91441900000000001X"


def request_body(**changes):
    body = {
        "booking": "0b0c3f4e-5d6a-4b7c-8d9e-0f1a2b3c4d5e", "revision": 1, "tender": {"code": "DG-2026-001", "title": "道路工程"},
        "lot": {"id": "17", "label": "第1标段"},
        "terms": {"starts_at": "2026-12-01T01:30:00Z", "ends_at": "2026-12-01T09:30:00Z", "seats": [{"specialty": "A08", "count": 2}]},
        "panel": {"home_experts": 3, "tenderer_representatives": 0},
        "parties": {"tenderer": {"credit_code": CODE, "name": "招标人"}, "agency": None, "bidders": [{"credit_code": CODE, "name": "投标人"}]},
    }
    body.update(changes)
    return body


def assignment(**changes):
    doc = dict(booking="0b0c3f4e-5d6a-4b7c-8d9e-0f1a2b3c4d5e", version=1, host="441900", partner="442000", lot="17",
               starts_at="2026-12-01T01:30:00Z", ends_at="2026-12-01T09:30:00Z",
               drawing={"id": 3, "algorithm": "etender-drawing-v1", "commitment": "a" * 64, "context": "b" * 64, "request": {}},
               seats=[{"specialty": "A08", "expert": "e-1", "round": 0, "public_jwk": None},
                      {"specialty": "A08", "expert": "e-2", "round": 0, "public_jwk": {"kty": "EC"}}],
               issued_at="2026-11-30T01:00:00Z")
    doc.update(changes)
    return bp.build_assignment(**doc)


def test_a_valid_request_and_the_recusal_codes():
    body = bp.check_request(request_body())
    assert bp.recusal_codes(body["parties"]) == ({CODE}, CODE)


@pytest.mark.parametrize("changes", [
    {"booking": "not-a-uuid"}, {"booking": "0B0C3F4E-5D6A-4B7C-8D9E-0F1A2B3C4D5E"}, {"revision": 0},
    {"terms": {"starts_at": "2026-12-01T09:30:00Z", "ends_at": "2026-12-01T01:30:00Z", "seats": [{"specialty": "A08", "count": 2}]}},
    {"terms": {"starts_at": "2026-12-01T01:30:00Z", "ends_at": "2026-12-01T09:30:00Z", "seats": []}},
    {"terms": {"starts_at": "2026-12-01T01:30:00Z", "ends_at": "2026-12-01T09:30:00Z", "seats": [{"specialty": "A08", "count": 0}]}},
    {"panel": {"home_experts": -1, "tenderer_representatives": 0}},
    {"parties": {"tenderer": {"credit_code": "short", "name": ""}, "agency": None, "bidders": []}},
    {"extra": 1},
])
def test_malformed_requests_are_refused(changes):
    with pytest.raises(protocol.Malformed):
        bp.check_request(request_body(**changes))


def test_assignment_shape_and_seat_matching():
    doc = assignment()
    assert bp.seats_match(doc, [{"specialty": "A08", "count": 2}])
    assert not bp.seats_match(doc, [{"specialty": "A08", "count": 3}])
    assert not bp.seats_match(doc, [{"specialty": "A08", "count": 1}, {"specialty": "A03", "count": 1}])
    for broken in (
        {"version": 0}, {"host": "4419"}, {"drawing": {**doc["drawing"], "commitment": "A" * 64}},
        {"drawing": {**doc["drawing"], "algorithm": "other"}},
        {"seats": [doc["seats"][0], doc["seats"][0]]}, {"seats": []},
        {"seats": [{**doc["seats"][0], "public_jwk": "key"}]},
    ):
        with pytest.raises(protocol.Malformed):
            assignment(**broken)
    extra = copy.deepcopy(doc)
    extra["names"] = ["张三"]
    with pytest.raises(protocol.Malformed):
        bp.validate_assignment(extra)
