"""Candidate publicity (R54): drafted by the tenderer or agency from a FINISHED evaluation with a
FINAL report, out only when the centre approves it, for at least 3 days (accelerated in the
sandbox); objections suspend the lot until answered, answers are due in 3 days."""

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import Notification
from accounts.permissions import can
from audit.models import AuditEvent
from config.errors import DeadlineError, DomainError, IllegalTransition
from tendering import chronograph, periods, services
from tendering.models import LotState, NoticeState, SuspensionKind
from tests.factories import actor, person
from tests.tendering.award_world import AwardWorld, font_embedded, media, payload, pdf_bytes, pdf_text, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def draft(world, **kwargs):
    return services.publicity_draft(by=actor(world.host), lot=world.lot, **kwargs)


def test_draft_takes_the_candidates_of_the_final_report_and_waits_for_the_centre(world):
    notice = draft(world, body="公示期内接受异议。")
    assert notice.state == NoticeState.PENDING and notice.issued_at is None and not notice.pdf
    assert [c["candidate_rank"] for c in notice.fields["candidates"]] == [1, 2, 3]
    assert [c["name"] for c in notice.fields["candidates"]] == [world.candidate(n).organisation.name for n in (1, 2, 3)]
    assert world.lot.state == LotState.EVALUATING
    # Not out before the centre approves: the public and the bidders do not see it.
    assert not can(None, "tendering.view_notice", notice)
    assert not can(world.bidders[0].user, "tendering.view_notice", notice)
    assert can(world.regulator, "tendering.view_notice", notice)


@pytest.mark.parametrize("finished, final, code", [(False, False, "evaluation_not_finished"), (True, False, "report_not_final")])
def test_draft_refused_before_the_evaluation_is_finished_with_a_final_report(db, clock, media, finished, final, code):
    world = AwardWorld(clock, finished=finished, final=final)
    with pytest.raises(IllegalTransition) as refused:
        draft(world)
    assert refused.value.code == code
    assert not world.lot.notices.exists()


def test_wrong_roles_cannot_draft_or_approve(world):
    for user in (world.bidders[0].user, world.centre, world.regulator):
        with pytest.raises(PermissionDenied):
            services.publicity_draft(by=actor(user), lot=world.lot)
    notice = draft(world)
    for user in (world.host, world.tenderer, world.bidders[0].user, world.regulator):
        with pytest.raises(PermissionDenied):
            services.notice_approve(by=actor(user), notice=notice)
    notice.refresh_from_db()
    assert notice.state == NoticeState.PENDING and world.lot.state == LotState.EVALUATING


def test_publicity_shorter_than_3_days_is_refused(world):
    with pytest.raises(DomainError, match="R54"):
        draft(world, days=2)


def test_approval_issues_it_as_a_pdf_starts_3_days_and_moves_the_lot(world, clock):
    notice = draft(world)
    clock.advance(hours=2)
    notice = services.notice_approve(by=actor(world.centre), notice=notice)
    lot = world.lot
    assert lot.state == LotState.PUBLICIZING
    assert notice.state == NoticeState.ISSUED and notice.approved_by == world.centre and notice.approved_at == clock()
    publicity = lot.publicity
    assert publicity.starts_at == clock() and publicity.ends_at == periods.period_end(clock(), 3)
    assert publicity.ends_at - publicity.starts_at >= timedelta(days=3)
    assert periods.is_working_day(publicity.ends_at.astimezone(periods.SHANGHAI).date())
    assert not publicity.late
    text = pdf_text(notice)
    assert "中标候选人公示" in text and world.candidate(1).organisation.name in text and world.candidate(3).organisation.name in text
    assert font_embedded(notice)
    assert hashlib.sha256(pdf_bytes(notice)).hexdigest() == notice.pdf_sha256
    assert can(None, "tendering.view_notice", notice)
    bidders = {b.organisation.pk for b in world.bidders}
    assert bidders <= set(Notification.objects.filter(subject__contains="中标候选人公示").values_list("organisation_id", flat=True))
    event = AuditEvent.objects.get(action="lot.publicize", object_id=str(lot.pk))
    assert payload(event)["to"] == "publicizing" and payload(event)["late"] is False


def test_sandbox_accelerates_the_publicity(db, clock, media):
    world = AwardWorld(clock, accelerator=1440)
    world.publicize()
    publicity = world.lot.publicity
    assert publicity.ends_at - publicity.starts_at == timedelta(minutes=3)


def test_publicity_later_than_3_days_after_the_report_is_flagged(db, clock, media):
    world = AwardWorld(clock, report_age=timedelta(days=5))
    world.publicize()
    assert world.lot.publicity.late
    assert AuditEvent.objects.filter(action="publicity.late").exists()


def test_returned_with_a_reason_then_revised_and_approved(world, clock):
    notice = draft(world)
    with pytest.raises(DomainError):
        services.notice_return(by=actor(world.centre), notice=notice, reason="  ")
    notice = services.notice_return(by=actor(world.centre), notice=notice, reason="候选人得分写错")
    assert notice.state == NoticeState.RETURNED and notice.returned_by == world.centre and notice.return_reason == "候选人得分写错"
    assert world.lot.state == LotState.EVALUATING
    with pytest.raises(IllegalTransition):
        services.notice_approve(by=actor(world.centre), notice=notice)
    with pytest.raises(IllegalTransition, match="已有"):
        draft(world)
    notice = services.notice_revise(by=actor(world.host), notice=notice, body="已更正。")
    assert notice.state == NoticeState.PENDING and notice.body == "已更正。"
    services.notice_approve(by=actor(world.centre), notice=notice)
    assert world.lot.state == LotState.PUBLICIZING
    with pytest.raises(IllegalTransition):
        services.notice_approve(by=actor(world.centre), notice=notice)
    with pytest.raises(IllegalTransition):
        draft(world)


def test_an_objection_suspends_the_lot_and_its_answer_resumes_it(world, clock):
    world.publicize()
    clock.advance(hours=1)
    objection = services.publicity_objection_raise(by=actor(world.candidate(2).user), lot=world.lot, text="第一中标候选人业绩不实。")
    assert objection.answer_due == periods.period_end(clock(), 3)
    lot = world.lot
    assert lot.state == LotState.SUSPENDED and lot.suspended_from == LotState.PUBLICIZING
    assert lot.suspension_kind == SuspensionKind.PUBLICITY_OBJECTION
    # An interested party other than a bidder (a verified bidder organisation) may object too.
    second = services.publicity_objection_raise(by=actor(person("bidder")), lot=world.lot, text="异议二")
    with pytest.raises(PermissionDenied):
        services.publicity_objection_answer(by=actor(world.candidate(1).user), objection=objection, answer="驳回")
    with pytest.raises(IllegalTransition, match="公示异议"):
        services.lot_resume(by=actor(world.host), lot=world.lot)  # only the last answer resumes it
    services.publicity_objection_answer(by=actor(world.host), objection=objection, answer="经核查，业绩属实。")
    assert world.lot.state == LotState.SUSPENDED  # the second is still open
    with pytest.raises(IllegalTransition):
        services.publicity_objection_answer(by=actor(world.host), objection=objection, answer="again")
    services.publicity_objection_answer(by=actor(world.tenderer), objection=second, answer="已答复")
    assert world.lot.state == LotState.PUBLICIZING
    assert Notification.objects.filter(organisation=world.candidate(2).organisation, subject__contains="异议已答复").exists()


def test_objections_only_within_the_period_and_with_text(world, clock):
    with pytest.raises(IllegalTransition):
        services.publicity_objection_raise(by=actor(world.bidders[1].user), lot=world.lot, text="too early")
    world.publicize()
    with pytest.raises(DomainError):
        services.publicity_objection_raise(by=actor(world.bidders[1].user), lot=world.lot, text=" ")
    with pytest.raises(PermissionDenied):
        services.publicity_objection_raise(by=actor(world.host), lot=world.lot, text="owner")
    world.after_publicity()
    with pytest.raises(DeadlineError):
        services.publicity_objection_raise(by=actor(world.bidders[1].user), lot=world.lot, text="too late")
    assert world.lot.state == LotState.PUBLICIZING


def test_the_chronograph_reports_a_late_answer_once(world, clock):
    world.publicize()
    objection = services.publicity_objection_raise(by=actor(world.bidders[3].user), lot=world.lot, text="异议")
    chronograph.tick()
    assert not AuditEvent.objects.filter(action="publicity.objection_overdue").exists()
    clock.set(objection.answer_due + timedelta(minutes=1))
    chronograph.tick()
    chronograph.tick()
    assert AuditEvent.objects.filter(action="publicity.objection_overdue").count() == 1
    objection.refresh_from_db()
    assert objection.is_open and objection.overdue_reported_at is not None


def test_drawing_result_is_published_with_the_candidates_when_the_pool_area_provides_it(world, monkeypatch):
    """The POOL+DRAWING area's publish_result (evaluation.services.drawing) is called, when present."""
    from types import SimpleNamespace

    import evaluation.services as package

    calls = []
    monkeypatch.setattr(package, "drawing", SimpleNamespace(publish_result=lambda *, by, drawing: calls.append(drawing.pk)), raising=False)
    monkeypatch.setitem(__import__("sys").modules, "evaluation.services.drawing", package.drawing)
    world.publicize()
    assert calls == [world.session.drawing_id]


def test_issuing_the_publicity_publishes_the_panel_drawing(world):
    """R46: the drawing's seed and the panel's names become public with the candidates."""
    from evaluation.models import Drawing, DrawingState

    world.publicize()
    drawing = Drawing.objects.get(pk=world.session.drawing_id)
    assert drawing.state == DrawingState.PUBLISHED and drawing.seed_revealed
