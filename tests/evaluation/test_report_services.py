"""The report services: drafting by the chair, signatures and dissents, final, expert keys."""

import io

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import PermissionDenied
from pypdf import PdfReader

from audit.models import AuditEvent
from bidding import keyfile
from config.errors import DomainError, IllegalTransition
from evaluation import report_signing
from evaluation.models import (
    EvaluationReport,
    ExpertKey,
    MemberStatus,
    PanelMember,
    QualificationVerdict,
    ReportSignature,
    ReportState,
    Score,
    SessionState,
)
from evaluation.report_statement import statement_hash
from evaluation.selectors_report import snapshot_part
from evaluation.services.report import expert_key_register, report_dissent, report_draft, report_sign
from opening.models import RoomEvent
from tests.evaluation.report_world import reporting
from tests.factories import actor, person


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def rep(eval_world):
    return reporting(eval_world)


def sign(rep, member, report, key=None):
    return report_sign(by=rep.by(member), report=report, signature_b64=report_signing.sign(key or rep.keys[member.pk], report.statement_sha256))


def pdf_text(report) -> str:
    with report.pdf.open("rb") as f:
        reader = PdfReader(io.BytesIO(f.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_chair_drafts_a_report_whose_hash_and_pdf_hold_the_figures(rep):
    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    assert report.version == 1 and report.state == ReportState.SIGNING
    assert report.statement_sha256 == statement_hash(report.statement)
    text = pdf_text(report)
    world = rep.world
    first = report.statement["candidates"][0]
    assert "评标报告" in text and report.statement_sha256[:64] in text.replace("\n", "")
    assert first["bidder"] in text and first["total"] in text
    assert "882,700.00" in text  # the benchmark price in yuan
    assert rep.members[2].expert.name in text  # names are in the report
    assert "该投标人的施工方案针对性不强" in text  # the outlier's reason
    assert "组长重新开启评分" in text  # re-scoring history
    assert world.tender.code in text
    with report.pdf.open("rb") as f:
        raw = f.read()
    assert b"/FontFile2" in raw  # the Chinese font is embedded (TrueType subset)
    assert AuditEvent.objects.filter(action="evaluation.report_draft").exists()
    assert RoomEvent.objects.filter(room=rep.session.room, kind="report.drafted").exists()


def test_only_the_chair_drafts_and_only_when_reporting(eval_world):
    rep = reporting(eval_world, state=SessionState.REVIEWING, with_keys=False)
    with pytest.raises(PermissionDenied):
        report_draft(by=rep.by(rep.members[1]), session=rep.session)
    with pytest.raises(IllegalTransition) as refused:
        report_draft(by=rep.by(rep.chair), session=rep.session)
    assert refused.value.code == "not_reporting"
    assert not EvaluationReport.objects.exists()


def test_a_redraft_supersedes_an_unanswered_version_but_not_an_answered_one(rep):
    first = report_draft(by=rep.by(rep.chair), session=rep.session)
    second = report_draft(by=rep.by(rep.chair), session=rep.session)
    first.refresh_from_db()
    assert first.state == ReportState.SUPERSEDED and second.version == 2
    with pytest.raises(IllegalTransition):
        sign(rep, rep.members[1], first)
    sign(rep, rep.members[1], second)
    with pytest.raises(IllegalTransition) as refused:
        report_draft(by=rep.by(rep.chair), session=rep.session)
    assert refused.value.code == "report_answered"


def test_a_signature_by_another_key_is_refused_and_nothing_stored(rep):
    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    member, other = rep.members[1], rep.members[2]
    with pytest.raises(DomainError) as refused:
        sign(rep, member, report, key=rep.keys[other.pk])
    assert refused.value.code == "bad_signature"
    with pytest.raises(DomainError) as refused:
        sign(rep, member, report, key=ec.generate_private_key(ec.SECP256R1()))
    assert refused.value.code == "bad_signature"
    assert not ReportSignature.objects.exists()


def test_a_malformed_or_wrong_hash_signature_is_refused(rep):
    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    member = rep.members[1]
    for bad in ("", "not-base64!!", "AAAA", report_signing.sign(rep.keys[member.pk], "0" * 64)):
        with pytest.raises(DomainError) as refused:
            report_sign(by=rep.by(member), report=report, signature_b64=bad)
        assert refused.value.code == "bad_signature"
    assert not ReportSignature.objects.exists()


def test_a_non_member_cannot_sign_or_dissent(rep):
    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    outsider = rep.world.spare_expert()
    private = ec.generate_private_key(ec.SECP256R1())
    expert_key_register(by=actor(outsider.user), public_jwk=keyfile.public_jwk(private.public_key()))
    with pytest.raises(PermissionDenied):
        report_sign(by=actor(outsider.user), report=report, signature_b64=report_signing.sign(private, report.statement_sha256))
    with pytest.raises(PermissionDenied):
        report_dissent(by=actor(outsider.user), report=report, text="不同意")
    with pytest.raises(PermissionDenied):
        report_dissent(by=actor(rep.world.tenderer), report=report, text="不同意")
    assert not ReportSignature.objects.exists() and not report.dissents.exists()


def test_a_member_without_a_key_may_dissent_but_not_sign(eval_world):
    rep = reporting(eval_world, with_keys=False)
    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    with pytest.raises(DomainError) as refused:
        report_sign(by=rep.by(rep.chair), report=report, signature_b64=report_signing.sign(ec.generate_private_key(ec.SECP256R1()), report.statement_sha256))
    assert refused.value.code == "no_expert_key"
    with pytest.raises(DomainError) as refused:
        report_dissent(by=rep.by(rep.chair), report=report, text="   ")
    assert refused.value.code == "text_required"
    report_dissent(by=rep.by(rep.chair), report=report, text="我认为乙公司的技术分偏高。")
    with pytest.raises(IllegalTransition) as refused:
        report_dissent(by=rep.by(rep.chair), report=report, text="再说一次")
    assert refused.value.code == "already_answered"


def test_final_only_when_every_member_has_signed_or_dissented(rep):
    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    *others, last = rep.members
    for member in others[:-1]:
        sign(rep, member, report)
    report_dissent(by=rep.by(others[-1]), report=report, text="我认为第二名的商务分偏高，不同意排序。")
    report.refresh_from_db()
    rep.session.refresh_from_db()
    assert report.state == ReportState.SIGNING and rep.session.state == SessionState.REPORTING
    draft_pdf_sha = report.pdf_sha256
    sign(rep, last, report)
    report.refresh_from_db()
    rep.session.refresh_from_db()
    assert report.state == ReportState.FINAL and report.finalised_at is not None
    assert rep.session.state == SessionState.FINISHED and rep.session.finished_at is not None
    assert report.pdf_sha256 != draft_pdf_sha
    text = pdf_text(report)
    assert "我认为第二名的商务分偏高" in text and "附录" in text
    assert RoomEvent.objects.filter(room=rep.session.room, kind="report.final").exists()
    assert AuditEvent.objects.filter(action="evaluationsession.finish").exists()
    with pytest.raises(IllegalTransition):
        report_dissent(by=rep.by(last), report=report, text="晚了")


def test_expert_key_registration_rotation_and_refusals(eval_world):
    expert = eval_world.spare_expert()
    first, second = (ec.generate_private_key(ec.SECP256R1()) for _ in range(2))
    key1 = expert_key_register(by=actor(expert.user), public_jwk=keyfile.public_jwk(first.public_key()))
    key2 = expert_key_register(by=actor(expert.user), public_jwk=keyfile.public_jwk(second.public_key()))
    key1.refresh_from_db()
    assert key1.revoked_at is not None and key2.revoked_at is None
    assert ExpertKey.objects.filter(user=expert.user, revoked_at__isnull=True).count() == 1
    assert key2.fingerprint == keyfile.fingerprint(second.public_key())
    with pytest.raises(DomainError) as refused:
        expert_key_register(by=actor(expert.user), public_jwk=keyfile.public_jwk(first.public_key()))
    assert refused.value.code == "key_registered"
    private_jwk = {**keyfile.public_jwk(first.public_key()), "d": "AAAA"}
    with pytest.raises(DomainError) as refused:
        expert_key_register(by=actor(expert.user), public_jwk=private_jwk)
    assert refused.value.code == "private_key"
    other_curve = ec.generate_private_key(ec.SECP384R1()).public_key().public_numbers()
    with pytest.raises(DomainError) as refused:
        expert_key_register(by=actor(expert.user), public_jwk={"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"})
    assert refused.value.code == "invalid_key" and other_curve
    with pytest.raises(PermissionDenied):
        expert_key_register(by=actor(person("bidder")), public_jwk=keyfile.public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key()))


def test_a_recused_members_voided_scores_stay_out_and_unvoided_ones_stop_the_draft(eval_world):
    rep = reporting(eval_world, with_keys=False)
    leaving = rep.members[3]
    PanelMember.objects.filter(pk=leaving.pk).update(status=MemberStatus.RECUSED, status_reason="与投标人有利害关系")
    replacement = PanelMember.objects.create(drawing=leaving.drawing, kind=leaving.kind, expert=eval_world.spare_expert(),
                                             specialty="A08", seat=leaving.seat, round=1, status=MemberStatus.CONFIRMED)
    replacement.user = replacement.expert.user
    replacement.save(update_fields=["user"])
    with pytest.raises(DomainError) as refused:
        report_draft(by=rep.by(rep.chair), session=rep.session)
    assert refused.value.code == "report_data"
    Score.objects.filter(member=leaving).update(void=True)
    QualificationVerdict.objects.filter(member=leaving).update(void=True)
    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    panel = report.statement["panel"]
    assert [m["status"] for m in panel if m["seat"] == leaving.seat] == ["recused", "confirmed"]
    assert not [s for s in report.statement["scores"] if s["member"] == leaving.seat]


def test_the_rooms_snapshot_part_tells_each_member_what_to_do(rep):
    assert snapshot_part(rep.session, rep.chair.user)["can_draft"] is True
    assert snapshot_part(rep.session, rep.members[1].user)["can_draft"] is False
    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    part = snapshot_part(rep.session, rep.members[1].user)
    assert part["sha256"] == report.statement_sha256 and part["viewer"] == {"must_answer": True, "answered": ""}
    sign(rep, rep.members[1], report)
    part = snapshot_part(rep.session, rep.members[1].user)
    assert part["viewer"] == {"must_answer": False, "answered": "signed"} and part["can_draft"] is False
    assert [a["response"] for a in part["answers"]].count("signed") == 1


def test_no_draft_while_a_clarification_waits_and_an_overdue_one_is_recorded_expired(rep, clock):
    """A report drafted while the panel still waits for a bidder's answer would leave the answer out
    for good: refused. One past its deadline is recorded as expired, in the report too."""
    from datetime import timedelta

    from evaluation.models import ClarificationStatus, EvaluationClarification

    world = rep.world
    asked = EvaluationClarification.objects.create(session=rep.session, bid=world.bidders[0].bid, number=1, question="请说明工期。",
                                                   deadline=clock() + timedelta(minutes=30), asked_by=rep.chair, asked_at=clock())
    with pytest.raises(DomainError) as caught:
        report_draft(by=rep.by(rep.chair), session=rep.session)
    assert caught.value.code == "clarification_open" and "第1号" in str(caught.value.message)
    assert not EvaluationReport.objects.filter(session=rep.session).exists()
    clock.advance(minutes=31)
    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    asked.refresh_from_db()
    assert asked.status == ClarificationStatus.EXPIRED
    assert [c["status"] for c in report.statement["clarifications"]] == ["expired"]


def test_a_drawing_of_lots_at_the_ranking_is_in_the_signed_statement_and_the_pdf(rep):
    session = rep.session
    b = sorted(x.bid.pk for x in rep.world.bidders)[:2]
    session.benchmark = {**session.benchmark, "lots": {"seed_hex": "ab" * 32, "seed_sha256": "cd" * 32, "algorithm": "x",
                                                       "groups": [{"rank": 1, "bids": b, "order": [b[1], b[0]]}]}}
    session.save(update_fields=["benchmark"])
    report = report_draft(by=rep.by(rep.chair), session=session)
    assert report.statement["benchmark"]["lots"]["groups"][0]["order"] == [b[1], b[0]]
    text = pdf_text(report).replace("\n", "")
    assert "抽签决定先后" in text and "ab" * 16 in text


def test_no_draft_or_signature_while_the_lot_is_suspended(rep):
    from tendering.models import Lot

    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    Lot.objects.filter(pk=rep.session.lot_id).update(state="suspended")
    with pytest.raises(DomainError) as caught:
        sign(rep, rep.members[1], report)
    assert caught.value.code == "lot_not_evaluating"
    with pytest.raises(DomainError):
        report_dissent(by=rep.by(rep.members[2]), report=report, text="不同意")
    assert not report.signatures.exists() and not report.dissents.exists()
