"""The chain as a specification: canonical JSON, the hash formula, and what verification refuses.
No database here: these are the rules an independent verifier must reproduce."""

import hashlib

import pytest

from audit.chain import (
    GENESIS_HASH,
    CanonicalJSONError,
    StoredEvent,
    canonical_json,
    chain_hash,
    verify_events,
)


def test_canonical_json_sorts_keys_and_drops_whitespace():
    assert canonical_json({"b": 1, "a": [True, None, "x"]}) == '{"a":[true,null,"x"],"b":1}'


def test_canonical_json_keeps_chinese_as_utf8_not_escapes():
    text = canonical_json({"name": "东莞市公共资源交易中心"})
    assert text == '{"name":"东莞市公共资源交易中心"}'
    assert "\\u" not in text


@pytest.mark.parametrize("value", [1.5, {"price": 100.0}, [1, 2.0], {"a": {"b": float("nan")}}])
def test_canonical_json_refuses_floats(value):
    with pytest.raises(CanonicalJSONError, match="floats are not allowed"):
        canonical_json(value)


def test_canonical_json_names_where_the_float_is():
    with pytest.raises(CanonicalJSONError, match=r"\$\.payload\.bids\[1\]"):
        canonical_json({"payload": {"bids": [1, 2.5]}})


@pytest.mark.parametrize("value", [2**53, -(2**53), {b"k": 1}, {1: "x"}, object(), {"when": {1, 2}}])
def test_canonical_json_refuses_what_other_implementations_cannot_read_the_same_way(value):
    with pytest.raises(CanonicalJSONError):
        canonical_json(value)


def test_largest_interoperable_integer_is_allowed():
    assert canonical_json({"fen": 2**53 - 1}) == '{"fen":9007199254740991}'


def test_chain_hash_is_sha256_of_previous_hash_bytes_then_body_bytes():
    body = '{"seq":1}'
    expected = hashlib.sha256(bytes(32) + body.encode()).hexdigest()
    assert chain_hash(GENESIS_HASH, body) == expected
    assert chain_hash(GENESIS_HASH, body.encode()) == expected


def _build(bodies):
    events, prev = [], GENESIS_HASH
    for seq, extra in enumerate(bodies, start=1):
        body = canonical_json({"seq": seq, "action": extra})
        digest = chain_hash(prev, body)
        events.append(StoredEvent(seq, prev, digest, body, {"action": extra}))
        prev = digest
    return events


def test_verify_accepts_an_intact_chain_and_reports_its_head():
    events = _build(["a", "b", "c"])
    verdict = verify_events(events)
    assert (verdict.ok, verdict.count, verdict.head) == (True, 3, events[-1].hash)


def test_verify_of_empty_chain_is_ok_with_genesis_head():
    verdict = verify_events([])
    assert (verdict.ok, verdict.count, verdict.head) == (True, 0, GENESIS_HASH)


def _replace(event, **changes):
    fields = dict(seq=event.seq, prev_hash=event.prev_hash, hash=event.hash, body=event.body, columns=event.columns)
    fields.update(changes)
    return StoredEvent(**fields)


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda ev: ev[:1] + ev[2:], "sequence gap"),
        (lambda ev: [ev[0], ev[2], ev[1], ev[3]], "sequence gap"),
        (lambda ev: ev[:1] + [_replace(ev[1], body=ev[1].body.replace('"b"', '"B"'))] + ev[2:], "hash does not match"),
        (lambda ev: ev[:1] + [_replace(ev[1], prev_hash="1" * 64)] + ev[2:], "previous hash"),
        (lambda ev: ev[:1] + [_replace(ev[1], columns={"action": "B"})] + ev[2:], "column 'action'"),
    ],
    ids=["dropped", "reordered", "body", "prev_hash", "column"],
)
def test_verify_names_the_first_bad_event_and_why(tamper, reason):
    verdict = verify_events(tamper(_build(["a", "b", "c", "d"])))
    assert not verdict.ok
    assert verdict.bad_seq == 2
    assert verdict.count == 1
    assert reason in verdict.reason


def test_verify_catches_a_rehashed_event_at_its_successor():
    events = _build(["a", "b", "c"])
    forged_body = events[1].body.replace('"b"', '"B"')
    events[1] = _replace(events[1], body=forged_body, hash=chain_hash(events[0].hash, forged_body), columns={"action": "B"})
    verdict = verify_events(events)
    assert (verdict.ok, verdict.bad_seq) == (False, 3)
    assert "previous hash" in verdict.reason


def test_verify_refuses_a_body_naming_another_sequence_number():
    body = canonical_json({"seq": 7})
    event = StoredEvent(1, GENESIS_HASH, chain_hash(GENESIS_HASH, body), body, {})
    verdict = verify_events([event])
    assert (verdict.ok, verdict.bad_seq) == (False, 1)
    assert "different sequence number" in verdict.reason


def test_verify_refuses_a_body_that_is_not_json():
    body = "not json"
    event = StoredEvent(1, GENESIS_HASH, chain_hash(GENESIS_HASH, body), body, {})
    verdict = verify_events([event])
    assert (verdict.ok, verdict.bad_seq, verdict.reason) == (False, 1, "body is not valid JSON")


@pytest.mark.parametrize("body", ["not json", '{"seq":1} ', '{"seq":1}{"seq":1}', "[" * 100_000 + "]" * 100_000],
                         ids=["garbage", "trailing-space", "two-values", "deeply-nested"])
def test_verify_refuses_a_body_that_is_not_exactly_one_json_value(body):
    event = StoredEvent(1, GENESIS_HASH, chain_hash(GENESIS_HASH, body), body, {})
    verdict = verify_events([event])
    assert (verdict.ok, verdict.bad_seq, verdict.reason) == (False, 1, "body is not valid JSON")


@pytest.mark.parametrize("body", ["[1]", '"seq"', "1"])
def test_verify_refuses_a_body_that_is_not_an_object(body):
    event = StoredEvent(1, GENESIS_HASH, chain_hash(GENESIS_HASH, body), body, {})
    assert verify_events([event]).reason == "body is not a JSON object"


def test_verify_refuses_true_standing_for_sequence_number_one():
    body = '{"seq":true}'
    event = StoredEvent(1, GENESIS_HASH, chain_hash(GENESIS_HASH, body), body, {})
    assert verify_events([event]).reason == "body names a different sequence number"


def test_verify_with_expect_head_needs_that_hash_on_the_chain():
    events = _build(["a", "b", "c"])
    assert verify_events(events, expect_head=events[1].hash).ok
    cut = verify_events(events[:1], expect_head=events[1].hash)
    assert (cut.ok, cut.bad_seq, cut.count) == (False, None, 1)
    assert "is not on the chain" in cut.reason


@pytest.mark.parametrize("value", ["\ud800", {"k": "a\udfff"}, {"\ud83d": 1}])
def test_canonical_json_refuses_lone_surrogates(value):
    with pytest.raises(CanonicalJSONError, match="not valid Unicode"):
        canonical_json(value)
