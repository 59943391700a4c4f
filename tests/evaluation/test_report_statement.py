"""The report statement and its signature, as pure functions (no database)."""

import base64
import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from bidding import keyfile
from evaluation import report_signing
from evaluation.report_statement import ReportDataError, build_statement, statement_hash, statement_text

CRITERIA = [
    {"code": "Q1", "name": "营业执照", "category": "qualification"},
    {"code": "T1", "name": "施工组织设计", "category": "technical", "max_score": 30, "weight": 1},
    {"code": "C1", "name": "企业业绩", "category": "commercial", "max_score": 20, "weight": 1},
    {"code": "P1", "name": "投标报价", "category": "price", "max_score": 50, "weight": 1},
]


def data(**overrides):
    members = [{"seat": n, "kind": "expert", "specialty": "A08", "name": f"专家{n}", "status": "confirmed", "serving": True}
               for n in range(1, 6)]
    members.append({"seat": 2, "round": 1, "kind": "expert", "name": "回避者", "status": "recused", "serving": False})
    members[1]["round"] = 2
    scores = []
    for bid in (11, 12):
        for seat in range(1, 6):
            scores.append({"bid": bid, "criterion": "T1", "member": seat, "value": Decimal(20 + seat + bid % 2), "reason": ""})
            scores.append({"bid": bid, "criterion": "C1", "member": seat, "value": Decimal("15.5"), "reason": ""})
    scores[0]["reason"] = "该投标人施工组织设计有明显缺陷"
    scores.append({"bid": 11, "criterion": "T1", "member": 9, "value": Decimal(1), "void": True})
    base = dict(
        version=1, platform={"region_code": "441900", "name": "东莞"}, tender={"id": 1, "code": "DG-1", "title": "道路工程"},
        lot={"id": 3, "number": 1, "name": "一标段"}, session={"starts_at": datetime(2026, 3, 1, 1, tzinfo=UTC), "ends_at": None},
        criteria=CRITERIA, price_formula={"benchmark": "average_minus_k", "k_percent": 3, "deduct_below_per_percent": 0.5},
        members=members, chair_seat=1,
        bids=[{"bid": 12, "bidder_id": 7, "bidder_name": "乙公司", "price_fen": 91_000_000},
              {"bid": 11, "bidder_id": 6, "bidder_name": "甲公司", "price_fen": 90_000_000}],
        verdicts=[{"bid": 11, "criterion": "Q1", "member": s, "passed": True, "reason": ""} for s in range(1, 6)],
        scores=scores,
        results=[{"bid": 11, "technical": Decimal("22.00"), "commercial": Decimal("15.50"), "price_score": Decimal("49.5"),
                  "total": Decimal("87.00"), "rank": 1, "candidate_rank": 1, "qualified": True},
                 {"bid": 12, "technical": Decimal(23), "commercial": Decimal("15.5"), "price_score": Decimal(48),
                  "total": Decimal("86.5"), "rank": 2, "candidate_rank": 2, "qualified": True}],
        benchmark={"method": "average_minus_k", "value_fen": 88_000_000, "k": Decimal("0.97")},
        reopenings=[{"stage": "scoring", "reason": "专家3 误填", "by": 1, "at": datetime(2026, 3, 1, 2, tzinfo=UTC), "snapshot": {}}],
        clarifications=[{"number": 1, "bid": 11, "status": "answered", "asked_by": 1, "question": "请说明工期", "answer": "365 天",
                         "answer_sha256": "a" * 64}],
        drafted_at=datetime(2026, 3, 1, 3, tzinfo=UTC), drafted_by={"seat": 1, "name": "专家1"}, audit_head=(41, "b" * 64),
    )
    base.update(overrides)
    return base


def test_same_facts_in_any_order_give_the_same_statement_and_hash():
    first = build_statement(**data())
    shuffled = data()
    for key in ("members", "scores", "verdicts", "bids", "results"):
        random.Random(key).shuffle(shuffled[key])
    second = build_statement(**shuffled)
    assert statement_text(first) == statement_text(second)
    assert statement_hash(first) == statement_hash(second)
    assert len(statement_hash(first)) == 64


def test_any_changed_score_changes_the_hash():
    changed = data()
    changed["scores"][3]["value"] = Decimal(21)
    assert statement_hash(build_statement(**data())) != statement_hash(build_statement(**changed))


def test_the_statement_holds_what_the_report_must_show():
    statement = build_statement(**data())
    assert [m["name"] for m in statement["panel"] if m["serving"]] == ["专家1", "专家2", "专家3", "专家4", "专家5"]
    assert next(m for m in statement["panel"] if m["chair"])["seat"] == 1
    assert any(m["status"] == "recused" for m in statement["panel"])
    assert all(s["member"] != 9 for s in statement["scores"])  # void scores are left out
    assert len(statement["scores"]) == 20 and statement["scores"][0]["value"] in ("21.00", "15.50", "22.00")
    first = statement["aggregates"][0]
    assert first["bid"] == 11
    assert {c["criterion"]: c["panel_score"] for c in first["criteria"]} == {"T1": "24.00", "C1": "15.50"}
    assert [e["total"] for e in first["expert_totals"]] == ["37.50", "38.50", "39.50", "40.50", "41.50"]
    assert [c["bidder"] for c in statement["candidates"]] == ["甲公司", "乙公司"]
    assert statement["outliers"][0]["reason"] == "该投标人施工组织设计有明显缺陷"
    assert statement["benchmark"]["k"] == "0.97"
    assert statement["scheme"]["price_formula"]["deduct_below_per_percent"] == "0.5"
    assert statement["rescoring"][0]["stage"] == "scoring"
    assert statement["clarifications"][0]["question_sha256"] and statement["clarifications"][0]["answer_sha256"] == "a" * 64
    assert "dissents" not in statement and "signatures" not in statement


def test_more_than_three_candidates_cannot_make_a_report():
    results = [{"bid": b, "total": "80", "rank": n, "candidate_rank": n} for n, b in enumerate((11, 12, 13, 14), 1)]
    with pytest.raises(ReportDataError):
        build_statement(**data(results=results))


def test_a_score_by_a_seat_not_serving_is_refused():
    bad = data()
    bad["scores"].append({"bid": 11, "criterion": "T1", "member": 8, "value": 3})
    with pytest.raises(ReportDataError):
        build_statement(**bad)


def test_signature_raw_and_der_both_verify_and_other_keys_do_not():
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    digest = statement_hash(build_statement(**data()))
    raw_b64 = report_signing.sign(key, digest)
    der = key.sign(digest.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    assert report_signing.verify(key.public_key(), digest, raw_b64)
    assert report_signing.verify(key.public_key(), digest, base64.b64encode(der).decode())
    assert report_signing.verify(key.public_key(), digest, base64.urlsafe_b64encode(der).decode().rstrip("="))
    assert not report_signing.verify(other.public_key(), digest, raw_b64)
    assert not report_signing.verify(key.public_key(), "0" * 64, raw_b64)
    assert not report_signing.verify(key.public_key(), digest, "not base64!")
    assert not report_signing.verify(key.public_key(), digest, base64.b64encode(b"\x00" * 10).decode())
    # the stored DER form verifies too
    stored = report_signing.der_b64(report_signing.decode(raw_b64))
    assert report_signing.verify(keyfile.public_key_from_jwk(keyfile.public_jwk(key.public_key())), digest, stored)
