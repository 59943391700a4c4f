"""From the room to a final report with the real services: check-in, chair election, every stage
scored and locked (tests/evaluation/room_helpers.py), then the chair's draft, every member's
signature or dissent, the session FINISHED, and report_verify passing on the result."""

import io
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command

from bidding import keyfile
from evaluation import report_signing
from evaluation.models import BidResult, ReportState, SessionState
from evaluation.services.report import expert_key_register, report_dissent, report_draft, report_sign
from tests.evaluation.room_helpers import by, chair, check_in_all, elect, fresh, lock, members, qualify_all, score_all
from tests.evaluation.world import EvaluationWorld

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_a_room_evaluation_ends_in_a_final_verified_report(clock):
    world = EvaluationWorld(clock)
    world.seated(experts=5)
    check_in_all(world)
    elect(world)
    qualify_all(world)
    lock(world, "qualification")
    score_all(world, value=lambda index, bid_index, code: Decimal("0.5") * (20 - index - bid_index))
    for kind in ("scoring", "price", "ranking"):
        lock(world, kind)
    session = fresh(world)
    assert session.state == SessionState.REPORTING
    keys = {}
    for member in members(world):
        keys[member.pk] = ec.generate_private_key(ec.SECP256R1())
        expert_key_register(by=by(member), public_jwk=keyfile.public_jwk(keys[member.pk].public_key()))

    report = report_draft(by=by(chair(world)), session=session)
    statement = report.statement
    results = BidResult.objects.filter(session=session)
    assert len(statement["results"]) == results.count() and len(statement["candidates"]) == 3
    assert statement["benchmark"]["value_fen"] == session.benchmark["value_fen"]
    assert len(statement["scores"]) == len(members(world)) * len(world.bidders) * 3  # T1, T2, C1 per member and bid
    first = results.get(candidate_rank=1)
    assert statement["candidates"][0]["bid"] == first.bid_id and statement["candidates"][0]["total"] == f"{first.total:.2f}"

    *signers, dissenter = members(world)
    for member in signers:
        report_sign(by=by(member), report=report, signature_b64=report_signing.sign(keys[member.pk], report.statement_sha256))
    report_dissent(by=by(dissenter), report=report, text="我认为第一名的技术方案评分偏高。")
    report.refresh_from_db()
    assert report.state == ReportState.FINAL and fresh(world).state == SessionState.FINISHED
    out = io.StringIO()
    call_command("report_verify", str(session.lot_id), stdout=out)
    assert "VERIFIED" in out.getvalue()
