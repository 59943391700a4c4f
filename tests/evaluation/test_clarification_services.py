"""Clarifications during evaluation (澄清): ask, answer (signed, with attachments), expiry, and the
abnormally-low-price gate on rejection (P21)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.models import Notification
from audit.models import AuditEvent
from config.errors import DeadlineError, DomainError, IllegalTransition
from evaluation import clarification_statement as cs
from evaluation.models import (
    BidResult,
    ClarificationAttachment,
    ClarificationStatus,
    EvaluationClarification,
    EvaluationSession,
    SessionState,
)
from evaluation.services import clarification as services
from opening.models import RoomEvent
from tests.evaluation.clarification_helpers import answer, ask, chair, files, reviewing, sign
from tests.factories import actor, make_user


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(eval_world):
    reviewing(eval_world)
    return eval_world


def events(session, kind):
    return list(RoomEvent.objects.filter(room=session.room, kind=kind).order_by("seq"))


# --- ask ----------------------------------------------------------------------------------------

def test_chair_asks_numbered_per_session_notifies_bidder_and_tells_the_room(world):
    session = world.session
    first = ask(world, session, bidder=0)
    second = ask(world, session, bidder=1, reason="abnormally_low", question="请说明报价的合理性及成本构成。")
    assert (first.number, second.number) == (1, 2)
    assert first.status == ClarificationStatus.OPEN and first.asked_by == world.members[0]
    notices = Notification.objects.filter(organisation=world.bidders[0].organisation, subject__startswith="评标澄清")
    assert notices.count() == 1 and f"/evaluation/clarifications/{first.pk}/" == notices.get().url
    assert not Notification.objects.filter(organisation=world.bidders[2].organisation, subject__startswith="评标澄清").exists()
    asked = events(session, "clarification.asked")
    assert [e.payload["number"] for e in asked] == [1, 2]
    assert asked[1].payload["question"] == "请说明报价的合理性及成本构成。"
    assert asked[1].payload["reason"] == "abnormally_low" and asked[1].payload["bid"] == world.bidders[1].bid.pk
    audit = AuditEvent.objects.filter(action="evaluation.clarification_ask").order_by("seq")
    assert audit.count() == 2 and audit.first().object_id == str(first.pk)


def test_a_member_who_is_not_the_chair_cannot_ask(world):
    with pytest.raises(PermissionDenied):
        services.clarification_ask(by=actor(world.members[1].user), session=world.session, bid=world.bidders[0].bid,
                                   question="问题", deadline=timezone.now() + timedelta(hours=1))
    assert not EvaluationClarification.objects.exists()


@pytest.mark.parametrize("who", ["bidder", "tenderer", "outsider_expert", "centre"])
def test_nobody_off_the_panel_can_ask(world, who):
    from tests.evaluation.world import make_expert

    user = {"bidder": world.bidders[0].user, "tenderer": world.tenderer, "centre": world.centre,
            "outsider_expert": make_expert().user}[who]
    with pytest.raises(PermissionDenied):
        services.clarification_ask(by=actor(user), session=world.session, bid=world.bidders[0].bid, question="问题",
                                   deadline=timezone.now() + timedelta(hours=1))
    assert not EvaluationClarification.objects.exists()
    assert not Notification.objects.filter(subject__startswith="评标澄清").exists()


@pytest.mark.parametrize("deadline, code", [
    (lambda: timezone.now() - timedelta(minutes=1), "deadline_too_soon"),
    (lambda: timezone.now() + timedelta(minutes=5), "deadline_too_soon"),
    (lambda: timezone.now() + timedelta(hours=9), "deadline_too_late"),
])
def test_deadline_in_the_past_too_soon_or_after_the_session_is_refused(world, deadline, code):
    with pytest.raises(DeadlineError) as refused:
        ask(world, world.session, deadline=deadline())
    assert refused.value.code == code
    assert not EvaluationClarification.objects.exists() and not events(world.session, "clarification.asked")


def test_ask_refused_outside_reviewing_for_a_foreign_bid_or_empty_question(world, clock):
    with pytest.raises(DomainError) as empty:
        ask(world, world.session, question="  ")
    assert empty.value.code == "empty_question"
    with pytest.raises(DomainError) as bad_reason:
        ask(world, world.session, reason="price_change")
    assert bad_reason.value.code == "bad_reason"
    now = timezone.now()
    other = type(world)(clock, bidders=3)  # another tender's lot (its making moves the clock)
    clock.set(now)
    with pytest.raises(DomainError) as foreign:
        services.clarification_ask(by=chair(world), session=world.session, bid=other.bidders[0].bid, question="问题",
                                   deadline=timezone.now() + timedelta(hours=1))
    assert foreign.value.code == "foreign_bid"
    EvaluationSession.objects.filter(pk=world.session.pk).update(state=SessionState.REPORTING)
    world.session.refresh_from_db()
    with pytest.raises(IllegalTransition):
        ask(world, world.session)
    assert not EvaluationClarification.objects.exists()


# --- answer -------------------------------------------------------------------------------------

def test_bidder_answers_signed_with_attachments_live_to_the_room(world):
    c = ask(world, world.session)
    items = [("资格证明.pdf", b"%PDF-1.7 certificate"), ("cost.xlsx", b"PK\x03\x04 sheet")]
    answered = answer(world, c, text="项目经理全职在岗。\r\n附证明。", items=items)
    answered.refresh_from_db()
    assert answered.status == ClarificationStatus.ANSWERED and answered.answer == "项目经理全职在岗。\n附证明。"
    assert answered.answered_by == world.bidders[0].user
    stored = {a.filename: a for a in answered.attachments.all()}
    assert set(stored) == {"资格证明.pdf", "cost.xlsx"}
    assert stored["cost.xlsx"].sha256 == hashlib.sha256(b"PK\x03\x04 sheet").hexdigest() and stored["cost.xlsx"].size == 10
    assert stored["资格证明.pdf"].file.read() == b"%PDF-1.7 certificate"
    key = world.bidders[0].organisation.bidder_keys.get(purpose="signing", status="active")
    assert answered.signing_key_fingerprint == key.fingerprint
    from tests.evaluation.clarification_helpers import statement

    assert answered.answer_sha256 == cs.statement_hash(statement(c, "项目经理全职在岗。\n附证明。", items))
    [event] = events(world.session, "clarification.answered")
    assert event.payload["answer"] == "项目经理全职在岗。\n附证明。"
    assert [a["name"] for a in event.payload["attachments"]] == ["cost.xlsx", "资格证明.pdf"]
    assert AuditEvent.objects.filter(action="evaluation.clarification_answer", object_id=str(c.pk)).count() == 1


def test_another_user_of_the_bidder_may_answer(world):
    c = ask(world, world.session)
    colleague = make_user(world.bidders[0].organisation)
    answer(world, c, user=colleague)
    c.refresh_from_db()
    assert c.status == ClarificationStatus.ANSWERED and c.answered_by == colleague


def test_bidder_b_cannot_answer_bidder_a_clarification(world):
    c = ask(world, world.session, bidder=0)
    with pytest.raises(PermissionDenied):
        answer(world, c, bidder=1)
    with pytest.raises(PermissionDenied):  # not even with A's key in hand
        answer(world, c, user=world.bidders[1].user, key=world.bidders[0].signing)
    c.refresh_from_db()
    assert c.status == ClarificationStatus.OPEN and not events(world.session, "clarification.answered")


def test_wrong_key_or_bad_signature_is_refused_and_nothing_is_stored(world):
    c = ask(world, world.session)
    items = [("a.pdf", b"content")]
    with pytest.raises(DomainError) as wrong_key:
        answer(world, c, key=ec.generate_private_key(ec.SECP256R1()), items=items)
    assert wrong_key.value.code == "bad_signature"
    with pytest.raises(DomainError) as other_bidders_key:
        answer(world, c, key=world.bidders[1].signing, items=items)
    assert other_bidders_key.value.code == "bad_signature"
    # signed one text, sent another: the statement differs
    signature = sign(world.bidders[0].signing, c, "原答复", items)
    with pytest.raises(DomainError) as altered:
        services.clarification_answer(by=actor(world.bidders[0].user), clarification=c, answer="改过的答复", attachments=files(*items),
                                      signature_b64=signature)
    assert altered.value.code == "bad_signature"
    # signed one attachment, sent another
    with pytest.raises(DomainError):
        services.clarification_answer(by=actor(world.bidders[0].user), clarification=c, answer="原答复",
                                      attachments=files(("a.pdf", b"tampered")), signature_b64=signature)
    for garbage in ["", "not base64!", "QUJD"]:
        with pytest.raises(DomainError) as bad:
            services.clarification_answer(by=actor(world.bidders[0].user), clarification=c, answer="原答复", attachments=[],
                                          signature_b64=garbage)
        assert bad.value.code == "bad_signature"
    c.refresh_from_db()
    assert c.status == ClarificationStatus.OPEN and c.answer == "" and c.answer_signature == ""
    assert not ClarificationAttachment.objects.exists()
    assert not events(world.session, "clarification.answered")
    assert not AuditEvent.objects.filter(action="evaluation.clarification_answer").exists()


def test_signature_in_der_and_hex_is_accepted(world):
    import base64

    from cryptography.hazmat.primitives import hashes

    from tests.evaluation.clarification_helpers import statement

    c = ask(world, world.session)
    digest = cs.statement_hash(statement(c, "答复", []))
    der = world.bidders[0].signing.sign(digest.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    services.clarification_answer(by=actor(world.bidders[0].user), clarification=c, answer="答复", attachments=[],
                                  signature_b64=base64.b64encode(der).decode())
    c2 = ask(world, world.session)
    from opening import record_signing

    raw = record_signing.sign(world.bidders[0].signing, cs.statement_hash(statement(c2, "答复", [])))
    services.clarification_answer(by=actor(world.bidders[0].user), clarification=c2, answer="答复", attachments=[], signature_b64=raw.hex())
    assert EvaluationClarification.objects.filter(status=ClarificationStatus.ANSWERED).count() == 2


def test_answer_after_the_deadline_is_refused(world, clock):
    c = ask(world, world.session, deadline=timezone.now() + timedelta(minutes=30))
    clock.advance(minutes=31)
    with pytest.raises(DeadlineError) as late:
        answer(world, c)
    assert late.value.code == "deadline_passed"
    c.refresh_from_db()
    assert c.status == ClarificationStatus.OPEN and c.answer == ""


def test_second_answer_is_refused(world):
    c = ask(world, world.session)
    answer(world, c)
    with pytest.raises(IllegalTransition):
        answer(world, c, text="再答一次")
    c.refresh_from_db()
    assert c.answer == "项目经理全职在岗。"


def test_attachment_too_large_or_too_many_is_refused(world, settings):
    settings.EVALUATION_CLARIFICATION_MAX_ATTACHMENT_BYTES = 1000
    c = ask(world, world.session)
    with pytest.raises(DomainError) as large:
        answer(world, c, items=[("ok.pdf", b"x" * 10), ("big.pdf", b"x" * 1001)])
    assert large.value.code == "too_large"
    with pytest.raises(DomainError) as many:
        answer(world, c, items=[(f"f{n}.txt", b"x") for n in range(services.MAX_ATTACHMENTS + 1)])
    assert many.value.code == "too_many_files"
    with pytest.raises(DomainError) as empty:
        answer(world, c, items=[("empty.txt", b"")])
    assert empty.value.code == "empty_file"
    with pytest.raises(DomainError) as duplicate:
        services.clarification_answer(by=actor(world.bidders[0].user), clarification=c, answer="答复",
                                      attachments=files(("a.txt", b"1"), ("dir/a.txt", b"2")), signature_b64="AA" * 43)
    assert duplicate.value.code == "bad_answer"
    assert not ClarificationAttachment.objects.exists()
    c.refresh_from_db()
    assert c.status == ClarificationStatus.OPEN


def test_empty_answer_is_refused(world):
    c = ask(world, world.session)
    with pytest.raises(DomainError) as empty:
        answer(world, c, text=" \r\n ")
    assert empty.value.code == "empty_answer"


def test_statement_is_the_documented_canonical_json(world):
    c = ask(world, world.session, question="问题")
    s = services.answer_statement(clarification=c, answer=" 答复\r\n第二行 ", attachments=[
        {"name": "b.pdf", "size": 2, "sha256": "b" * 64}, {"name": "C:\\docs\\a.pdf", "size": 1, "sha256": "a" * 64}])
    assert cs.statement_text(s) == (
        '{"answer":"答复\\n第二行","attachments":[{"name":"a.pdf","sha256":"' + "a" * 64 + '","size":1},'
        '{"name":"b.pdf","sha256":"' + "b" * 64 + '","size":2}],"bid":' + str(c.bid_id)
        + ',"format":"etender-clarification-answer","lot":' + str(world.lot.pk) + ',"number":1,"question_sha256":"'
        + hashlib.sha256("问题".encode()).hexdigest() + '","session":' + str(world.session.pk) + ',"version":1}'
    )


# --- expiry -------------------------------------------------------------------------------------

def test_expire_due_marks_overdue_open_clarifications_once(world, clock):
    soon = ask(world, world.session, deadline=timezone.now() + timedelta(minutes=20))
    later = ask(world, world.session, bidder=1, deadline=timezone.now() + timedelta(hours=3))
    answered = ask(world, world.session, bidder=2, deadline=timezone.now() + timedelta(minutes=20))
    answer(world, answered, bidder=2)
    assert services.expire_due(now=timezone.now()) == 0
    clock.advance(minutes=21)
    assert services.expire_due(now=timezone.now()) == 1
    assert services.expire_due(now=timezone.now()) == 0  # idempotent
    assert list(services.open_clarifications(world.session)) == [later]
    statuses = dict(EvaluationClarification.objects.values_list("pk", "status"))
    assert statuses == {soon.pk: "expired", later.pk: "open", answered.pk: "answered"}
    [event] = events(world.session, "clarification.expired")
    assert event.payload["number"] == soon.number
    assert AuditEvent.objects.filter(action="evaluation.clarification_expire").count() == 1
    with pytest.raises(DeadlineError):
        answer(world, soon)


# --- P21: rejecting an abnormally low bid ---------------------------------------------------------

def flag_abnormally_low(world, bidder: int = 3):
    return BidResult.objects.create(session=world.session, bid=world.bidders[bidder].bid, abnormally_low=True)


def test_abnormally_low_bid_cannot_be_rejected_without_a_clarification(world):
    flag_abnormally_low(world)
    bid = world.bidders[3].bid
    assert not services.may_reject_abnormally_low(world.session, bid)
    with pytest.raises(DomainError) as refused:
        services.reject_bid(by=chair(world), session=world.session, bid=bid, reason="报价低于成本")
    assert refused.value.code == "clarification_required"
    assert not BidResult.objects.get(bid=bid).rejected and not events(world.session, "bid.rejected")


def test_abnormally_low_bid_rejected_only_after_the_answer(world):
    flag_abnormally_low(world)
    bid = world.bidders[3].bid
    c = ask(world, world.session, bidder=3, reason="abnormally_low")
    ask(world, world.session, bidder=3, reason="general")  # a general one does not count
    with pytest.raises(DomainError) as refused:
        services.reject_bid(by=chair(world), session=world.session, bid=bid, reason="报价低于成本")
    assert refused.value.code == "clarification_open"
    answer(world, c, bidder=3, text="我单位采用自有设备，成本较低。")
    assert services.may_reject_abnormally_low(world.session, bid)
    result = services.reject_bid(by=chair(world), session=world.session, bid=bid, reason="说明不能证明报价不低于成本")
    result.refresh_from_db()
    assert result.rejected and result.rejection_reason == "说明不能证明报价不低于成本"
    [event] = events(world.session, "bid.rejected")
    assert event.payload["bid"] == bid.pk and event.payload["abnormally_low"] is True
    assert AuditEvent.objects.filter(action="evaluation.bid_reject").count() == 1
    with pytest.raises(IllegalTransition):
        services.reject_bid(by=chair(world), session=world.session, bid=bid, reason="再次")


def test_abnormally_low_bid_rejected_after_the_clarification_expired_even_before_the_chronograph(world, clock):
    flag_abnormally_low(world)
    bid = world.bidders[3].bid
    c = ask(world, world.session, bidder=3, reason="abnormally_low", deadline=timezone.now() + timedelta(minutes=15))
    clock.advance(minutes=16)
    assert services.may_reject_abnormally_low(world.session, bid)
    services.reject_bid(by=chair(world), session=world.session, bid=bid, reason="逾期未说明")
    c.refresh_from_db()
    assert c.status == ClarificationStatus.EXPIRED
    assert [e.kind for e in RoomEvent.objects.filter(room=world.session.room).order_by("seq")][-2:] == ["clarification.expired", "bid.rejected"]


def test_ordinary_bid_rejected_without_clarification_creating_its_result(world):
    bid = world.bidders[0].bid
    assert not BidResult.objects.filter(bid=bid).exists()
    result = services.reject_bid(by=chair(world), session=world.session, bid=bid, reason="投标文件未按要求签章")
    assert result.rejected and BidResult.objects.get(bid=bid).rejection_reason == "投标文件未按要求签章"


def test_only_the_chair_rejects_and_a_reason_is_required(world):
    bid = world.bidders[0].bid
    with pytest.raises(PermissionDenied):
        services.reject_bid(by=actor(world.members[2].user), session=world.session, bid=bid, reason="理由")
    with pytest.raises(DomainError) as empty:
        services.reject_bid(by=chair(world), session=world.session, bid=bid, reason="  ")
    assert empty.value.code == "empty_reason"
    assert not BidResult.objects.filter(bid=bid).exists()


def test_the_chronograph_tick_expires_overdue_clarifications(world, clock):
    from tendering import chronograph

    c = ask(world, world.session, deadline=timezone.now() + timedelta(minutes=20))
    clock.advance(minutes=21)
    done = chronograph.tick(timezone.now())
    assert {"action": "clarification.expire", "object": str(c), "id": c.pk} in done
    c.refresh_from_db()
    assert c.status == ClarificationStatus.EXPIRED and len(events(world.session, "clarification.expired")) == 1
    assert not [d for d in chronograph.tick(timezone.now()) if d["action"] == "clarification.expire"]


def test_no_question_or_answer_while_the_lot_is_suspended(world):
    from tendering.models import Lot

    c = ask(world, world.session)
    Lot.objects.filter(pk=world.lot.pk).update(state="suspended")
    with pytest.raises(IllegalTransition) as caught:
        answer(world, c)
    assert caught.value.code == "lot_not_evaluating"
    with pytest.raises(IllegalTransition):
        ask(world, world.session, bidder=1)
    c.refresh_from_db()
    assert c.status == ClarificationStatus.OPEN and EvaluationClarification.objects.count() == 1
