"""The pure protocol module: envelope, signatures, freshness, metadata, agreement and token."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crossregion import protocol as p
from crossregion.protocol_vectors import build, dumps, keys
from pathlib import Path

NOW = datetime(2026, 11, 27, 8, 30, 0, tzinfo=UTC)
DG, ZS = keys()
DG_RAW, ZS_RAW = p.public_raw_of(DG), p.public_raw_of(ZS)


def envelope(**changes):
    fields = dict(type="booking.request", sender="441900", recipient="442000", key_id=p.key_id(DG_RAW),
                  body={"seats": 2}, idempotency_key="booking:1:request", sent_at=NOW)
    fields.update(changes)
    return p.build_envelope(**fields)


# Vectors -------------------------------------------------------------------------------------

def test_committed_vectors_are_what_the_code_computes():
    path = Path(__file__).resolve().parents[2] / "crossregion" / "vectors" / "protocol-v1.json"
    assert path.read_text(encoding="utf-8") == dumps(build())


def test_vectors_verify_independently_of_the_builders():
    vectors = json.loads((Path(p.__file__).parent / "vectors" / "protocol-v1.json").read_text(encoding="utf-8"))
    dg_raw = p.b64url_decode(vectors["keys"]["441900"]["public"])
    zs_raw = p.b64url_decode(vectors["keys"]["442000"]["public"])
    env = vectors["envelope"]
    assert p.canonical_bytes(env["envelope"]).hex() == env["canonical_utf8_hex"]
    p.verify_envelope(env["envelope"], env["signature"], dg_raw)
    wire_env, wire_sig = p.parse_wire(bytes.fromhex(env["wire_utf8_hex"]))
    assert wire_env == env["envelope"] and wire_sig == env["signature"]
    agreement = vectors["agreement"]
    p.verify_agreement(agreement["document"], agreement["signatures"]["441900"], dg_raw)
    p.verify_agreement(agreement["document"], agreement["signatures"]["442000"], zs_raw)
    token = vectors["token"]
    at = datetime.fromtimestamp(token["payload"]["iat"], UTC)
    assert p.verify_token(token["token"], public_raw=zs_raw, audience="441900", now=at) == token["payload"]
    assert p.parse_metadata(vectors["metadata"]).public_key == dg_raw


# Canonical JSON and encodings ----------------------------------------------------------------

def test_canonical_bytes_sorted_compact_utf8_and_no_floats():
    assert p.canonical_bytes({"b": 1, "a": ["中", True, None]}) == '{"a":["中",true,null],"b":1}'.encode()
    with pytest.raises(p.Malformed):
        p.canonical_bytes({"a": 1.5})


@pytest.mark.parametrize("text", ["AAA=", "A+/=", "A", "AB=C", "AB C"])
def test_b64url_is_strict(text):
    with pytest.raises(p.Malformed):
        p.b64url_decode(text)


def test_b64url_refuses_a_non_canonical_encoding():
    assert p.b64url_decode("AA") == b"\x00"
    with pytest.raises(p.Malformed):
        p.b64url_decode("AB")  # same byte, stray low bits


def test_key_id_and_fingerprint_agree():
    assert p.fingerprint(DG_RAW).replace(" ", "")[:16] == p.key_id(DG_RAW)
    assert len(p.fingerprint(DG_RAW).split()) == 16


# Envelope ------------------------------------------------------------------------------------

def test_envelope_signed_verifies_and_survives_the_wire():
    env = envelope()
    signature = p.sign_envelope(env, DG)
    assert len(signature) == 86 and "=" not in signature
    parsed, parsed_sig = p.parse_wire(p.wire(env, signature))
    p.verify_envelope(parsed, parsed_sig, DG_RAW)


def test_a_changed_envelope_or_another_key_fails_verification():
    env = envelope()
    signature = p.sign_envelope(env, DG)
    with pytest.raises(p.BadSignature):
        p.verify_envelope({**env, "body": {"seats": 3}}, signature, DG_RAW)
    with pytest.raises(p.BadSignature):
        p.verify_envelope(env, signature, ZS_RAW)
    with pytest.raises(p.BadSignature) as missing:
        p.verify_envelope(env, None, DG_RAW)
    assert missing.value.code == "bad_signature" and missing.value.status == 401
    with pytest.raises(p.BadSignature):
        p.verify_envelope(env, "not*base64", DG_RAW)


@pytest.mark.parametrize("change, where", [
    ({"format": "etender-message/2"}, "format"),
    ({"type": "Booking"}, "type"),
    ({"from": "4419"}, "from"),
    ({"to": 442000}, "to"),
    ({"key_id": "XYZ"}, "key_id"),
    ({"nonce": "00112233445566778899AABBCCDDEEFF"}, "nonce"),
    ({"sent_at": "2026-11-27 08:30:00"}, "sent_at"),
    ({"sent_at": "2026-02-30T08:30:00Z"}, "sent_at"),
    ({"idempotency_key": "short"}, "idempotency_key"),
    ({"idempotency_key": "has space in it"}, "idempotency_key"),
    ({"body": []}, "body"),
    ({"body": {"price": 1.5}}, "price"),
    ({"extra": 1}, "unknown"),
])
def test_malformed_envelopes_are_refused_with_the_reason(change, where):
    env = {**envelope(), **change}
    with pytest.raises(p.Malformed) as refused:
        p.validate_envelope(env)
    assert refused.value.code == "malformed" and refused.value.status == 400
    assert where in refused.value.detail


def test_a_missing_field_is_malformed():
    env = envelope()
    del env["nonce"]
    with pytest.raises(p.Malformed, match="missing"):
        p.validate_envelope(env)


@pytest.mark.parametrize("raw", [
    b"not json", b"[]", b'{"signature":"x"}', '{"envelope":{}}'.encode(), b"\xff\xfe",
    b'{"envelope":1,"envelope":2}', b'{"envelope":NaN}',
])
def test_parse_wire_refuses_what_is_not_the_wire_form(raw):
    with pytest.raises(p.Malformed):
        p.parse_wire(raw)


def test_parse_wire_refuses_duplicate_keys_inside_the_envelope():
    env = envelope()
    raw = p.wire(env, p.sign_envelope(env, DG)).replace(b'"body":{', b'"body":{"seats":9,', 1)
    with pytest.raises(p.Malformed, match="duplicate"):
        p.parse_wire(raw)


def test_a_missing_signature_parses_as_none_for_a_later_bad_signature():
    raw = json.dumps({"envelope": envelope()}).encode()
    assert p.parse_wire(raw)[1] is None


def test_freshness_window_is_five_minutes_either_way():
    env = envelope()
    p.check_fresh(env, NOW + timedelta(seconds=300))
    p.check_fresh(env, NOW - timedelta(seconds=300))
    with pytest.raises(p.Stale) as stale:
        p.check_fresh(env, NOW + timedelta(seconds=301))
    assert stale.value.code == "stale" and stale.value.status == 401
    with pytest.raises(p.Stale):
        p.check_fresh(env, NOW - timedelta(seconds=301))


def test_body_hash_is_independent_of_key_order():
    assert p.body_hash({"a": 1, "b": 2}) == p.body_hash({"b": 2, "a": 1}) != p.body_hash({"a": 1, "b": 3})


def test_size_limits():
    assert p.size_limit("booking.request") == 1024 * 1024
    assert p.size_limit("replication.batch") == 8 * 1024 * 1024


def test_backoff_doubles_from_five_seconds_up_to_ten_minutes():
    assert [p.backoff_seconds(n) for n in range(1, 10)] == [5, 10, 20, 40, 80, 160, 320, 600, 600]
    assert p.backoff_seconds(1000) == 600


# Metadata ------------------------------------------------------------------------------------

def test_metadata_round_trip():
    doc = p.build_metadata(region_code="441900", region_name="东莞", base_url="http://127.0.0.1:8000/", public_raw=DG_RAW)
    meta = p.parse_metadata(p.canonical_bytes(doc))
    assert (meta.region_code, meta.region_name, meta.base_url, meta.public_key) == ("441900", "东莞", "http://127.0.0.1:8000", DG_RAW)
    assert meta.endpoints["inbox"] == "/crossregion/inbox/"
    assert meta.fingerprint == p.fingerprint(DG_RAW)


def test_metadata_with_a_key_id_not_matching_its_key_is_refused():
    doc = p.build_metadata(region_code="441900", region_name="东莞", base_url="http://x", public_raw=DG_RAW)
    doc["key"]["key_id"] = p.key_id(ZS_RAW)
    with pytest.raises(p.Malformed, match="key_id"):
        p.parse_metadata(doc)


@pytest.mark.parametrize("change", [{"format": "x"}, {"region_code": "44"}, {"base_url": "ftp://x"}, {"endpoints": {}}])
def test_bad_metadata_is_refused(change):
    doc = {**p.build_metadata(region_code="441900", region_name="东莞", base_url="http://x", public_raw=DG_RAW), **change}
    with pytest.raises(p.Malformed):
        p.parse_metadata(doc)


# Agreement -----------------------------------------------------------------------------------

def agreement(**changes):
    fields = dict(parties=[{"region_code": "442000", "name": "中山", "key_id": p.key_id(ZS_RAW)},
                           {"region_code": "441900", "name": "东莞", "key_id": p.key_id(DG_RAW)}],
                  scope=["booking", "drawing"], valid_from=NOW, valid_until=NOW + timedelta(days=365), text="协议正文")
    fields.update(changes)
    return p.build_agreement(**fields)


def test_agreement_parties_sorted_and_both_signatures_verify():
    doc = agreement()
    assert [party["region_code"] for party in doc["parties"]] == ["441900", "442000"]
    p.verify_agreement(doc, p.sign_agreement(doc, DG), DG_RAW)
    p.verify_agreement(doc, p.sign_agreement(doc, ZS), ZS_RAW)


def test_an_agreement_changed_after_signing_no_longer_verifies():
    doc = agreement()
    signature = p.sign_agreement(doc, DG)
    with pytest.raises(p.BadSignature):
        p.verify_agreement({**doc, "valid_until": "2099-01-01T00:00:00Z"}, signature, DG_RAW)


def test_agreement_in_force_only_within_validity():
    doc = agreement()
    assert p.agreement_in_force(doc, NOW)
    assert not p.agreement_in_force(doc, NOW - timedelta(seconds=1))
    assert not p.agreement_in_force(doc, NOW + timedelta(days=365))


@pytest.mark.parametrize("changes", [
    {"scope": []}, {"scope": ["booking", "payments"]}, {"valid_until": NOW}, {"text": " "},
    {"parties": [{"region_code": "441900", "name": "东莞", "key_id": "0" * 16}] * 2},
])
def test_bad_agreements_are_refused(changes):
    with pytest.raises(p.Malformed):
        agreement(**changes)


# Token ---------------------------------------------------------------------------------------

def token(**changes):
    fields = dict(iss="442000", aud="441900", sub="EXP-1", session=17, issued_at=NOW)
    fields.update(changes)
    return p.sign_token(p.build_token_payload(**fields), ZS)


def verify(tok, *, key=ZS_RAW, audience="441900", now=NOW + timedelta(seconds=10)):
    return p.verify_token(tok, public_raw=key, audience=audience, now=now)


def test_token_verifies_and_peek_names_the_issuer():
    tok = token()
    assert p.peek_token(tok)["iss"] == "442000"
    payload = verify(tok)
    assert payload["sub"] == "EXP-1" and payload["session"] == 17 and payload["exp"] - payload["iat"] == 300


def expect(code, tok, **kwargs):
    with pytest.raises(p.TokenError) as refused:
        verify(tok, **kwargs)
    assert refused.value.code == code
    assert refused.value.as_response()["ok"] is False


def test_forged_token_is_refused():
    tok = token()
    head, _sig = tok.split(".")
    other = p.sign_token(p.peek_token(tok), DG).split(".")[1]
    expect("token_bad_signature", f"{head}.{other}")


def test_token_with_a_changed_payload_is_refused():
    tok = token()
    payload = {**p.peek_token(tok), "sub": "EXP-2"}
    forged_head = p.b64url_encode(p.canonical_bytes(payload))
    expect("token_bad_signature", f"{forged_head}.{tok.split('.')[1]}")


def test_expired_token_is_refused():
    expect("token_expired", token(), now=NOW + timedelta(seconds=300))


def test_token_for_another_audience_is_refused():
    expect("token_wrong_audience", token(aud="440300"))


def test_token_issued_in_the_future_is_refused():
    expect("token_not_yet_valid", token(issued_at=NOW + timedelta(minutes=2)), now=NOW)


def test_token_living_longer_than_five_minutes_cannot_be_built_or_accepted():
    with pytest.raises(p.TokenError) as refused:
        token(lifetime=301)
    assert refused.value.code == "token_lifetime"
    payload = {**p.peek_token(token()), "exp": int(NOW.timestamp()) + 301}
    data = p.canonical_bytes(payload)
    forged = f"{p.b64url_encode(data)}.{p.b64url_encode(ZS.sign(data))}"
    expect("token_lifetime", forged)


@pytest.mark.parametrize("tok", ["", "a.b.c", "nodot", "!!.AA", 17])
def test_malformed_tokens_are_refused(tok):
    expect("token_malformed", tok)


def test_token_with_a_bad_jti_or_non_canonical_payload_is_refused():
    payload = {**p.peek_token(token()), "jti": "123"}
    data = json.dumps(payload).encode()  # with spaces: not canonical
    expect("token_malformed", f"{p.b64url_encode(data)}.{p.b64url_encode(ZS.sign(data))}")
    data = p.canonical_bytes(payload)
    expect("token_malformed", f"{p.b64url_encode(data)}.{p.b64url_encode(ZS.sign(data))}")


def test_protocol_module_imports_no_django():
    import ast

    tree = ast.parse(Path(p.__file__).read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not any(name.startswith("django") for name in names)
    assert Ed25519PrivateKey  # the key type used by callers


def test_signed_documents_verify_and_name_their_key():
    signed = p.sign_document({"assignment": 1, "experts": ["EXP-1"]}, ZS)
    assert signed["key_id"] == p.key_id(ZS_RAW)
    assert p.verify_document(signed, ZS_RAW) == {"assignment": 1, "experts": ["EXP-1"]}
    with pytest.raises(p.BadSignature):
        p.verify_document({**signed, "document": {"assignment": 2, "experts": ["EXP-1"]}}, ZS_RAW)
    with pytest.raises(p.BadSignature):
        p.verify_document(signed, DG_RAW)
    with pytest.raises(p.Malformed):
        p.verify_document({"document": {}}, ZS_RAW)


def test_the_documentation_quotes_the_vectors():
    doc = (Path(p.__file__).resolve().parents[1] / "docs" / "cross-region.md").read_text(encoding="utf-8")
    vectors = build()
    assert p.canonical_bytes(vectors["envelope"]["envelope"]).decode() in doc
    assert vectors["envelope"]["signature"] in doc
    assert vectors["token"]["token"] in doc
    assert vectors["metadata"]["key"]["public"] in doc and vectors["metadata"]["key"]["key_id"] in doc
