"""The drawing on the platform: commitment before the draw, recusal, panel rules refused with the
reason, determinism from the stored seed, declines replaced without re-picking, names hidden from
everyone but centre staff until the result (R46)."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts import credit_code
from audit.models import AuditEvent
from config.errors import DomainError
from evaluation import drawing as algorithm
from evaluation import selectors_pool
from evaluation.models import (
    Drawing,
    DrawingState,
    EvaluationSession,
    ExpertConflict,
    ExpertUnavailability,
    MemberStatus,
    PanelMember,
)
from evaluation.services import drawing as service
from tests import factories
from tests.evaluation.world import make_expert
from tests.factories import actor, person

pytestmark = pytest.mark.django_db


def request(world, *, experts=5, reps=0, representatives=(), slots=None, starts_in=timedelta(hours=2), by=None):
    starts = timezone.now() + starts_in
    return service.drawing_request(
        by=actor(by or world.centre), lot=world.lot, session_starts_at=starts, session_ends_at=starts + timedelta(hours=6),
        slots=slots or [{"specialty": "A08", "count": experts}], tenderer_representatives=reps, representatives=list(representatives),
    )


def drawn(world, **kwargs):
    drawing = request(world, **kwargs)
    return service.drawing_run(by=actor(world.centre), drawing=drawing)


def event(action, drawing):
    return AuditEvent.objects.get(action=action, object_id=str(drawing.pk), object_type="evaluation.drawing")


def payload(event):
    return json.loads(event.body)["payload"]


def serving(drawing):
    return list(drawing.members.filter(status__in=[MemberStatus.DRAWN, MemberStatus.CONFIRMED]).order_by("seat"))


def test_commitment_is_recorded_before_the_draw_and_the_result_follows_from_the_stored_seed(eval_world):
    eval_world.pool(8)
    drawing = request(eval_world)
    assert drawing.state == DrawingState.COMMITTED
    assert not drawing.members.exists() and not drawing.rounds
    commit = event("evaluation.drawing_commit", drawing)
    seed = bytes.fromhex(drawing.seed_hex)
    assert payload(commit)["commitment"] == hashlib.sha256(seed).hexdigest() == drawing.seed_commitment
    assert drawing.seed_hex not in commit.body  # the seed itself stays secret
    assert payload(commit)["eligible_counts"] == {"A08": 8}

    drawing = service.drawing_run(by=actor(eval_world.centre), drawing=drawing)
    assert drawing.state == DrawingState.DRAWN
    draw_event = event("drawing.draw", drawing)
    assert commit.seq < draw_event.seq
    # Determinism: the stored seed, request and sorted pool give exactly the stored result.
    expected = algorithm.draw(seed, algorithm.DrawingRequest.from_json(drawing.request_json), drawing.eligible)
    assert drawing.rounds == [expected.to_json()]
    members = serving(drawing)
    assert [m.seat for m in members] == [1, 2, 3, 4, 5]
    assert [str(m.expert.public_id) for m in members] == [p.expert for p in expected.picks]
    assert all(m.user_id == m.expert.user_id for m in members)
    assert payload(commit)["context"] == algorithm.context_hash(algorithm.DrawingRequest.from_json(drawing.request_json), drawing.eligible)
    session = EvaluationSession.objects.get(lot=eval_world.lot)
    assert session.drawing == drawing and session.starts_at == drawing.session_starts_at
    with pytest.raises(DomainError):
        service.drawing_run(by=actor(eval_world.centre), drawing=drawing)


def test_recusal_of_bidders_tenderer_agency_staff_declared_conflicts_and_the_unavailable(eval_world):
    world = eval_world
    bidder_code = world.bidders[0].organisation.credit_code
    tenderer_code = world.tender.tenderer.credit_code
    agency_code = world.tender.agency.credit_code
    bidder_employee = make_expert(employer_credit_code=bidder_code)
    agency_employee = make_expert(employer_credit_code=agency_code)
    conflicted = make_expert(employer_credit_code=credit_code.complete("91441900555000001"))
    ExpertConflict.objects.create(expert=conflicted, organisation_credit_code=tenderer_code)
    on_leave = make_expert()
    ExpertUnavailability.objects.create(expert=on_leave, starts_at=timezone.now() + timedelta(hours=3),
                                        ends_at=timezone.now() + timedelta(days=1))
    no_account = make_expert(with_user=False)
    retired = make_expert()
    retired.active = False
    retired.save()
    other_specialty = make_expert(specialties=("A03",))
    good = world.pool(6)

    drawing = request(world)
    eligible = set(drawing.eligible["A08"])
    assert eligible == {str(e.public_id) for e in good}
    reasons = {x["expert"]: x["reasons"] for x in drawing.excluded}
    assert reasons == {
        str(bidder_employee.public_id): ["employer"],
        str(agency_employee.public_id): ["employer"],
        str(conflicted.public_id): ["conflict"],
        str(on_leave.public_id): ["unavailable"],
        str(no_account.public_id): ["no_account"],
    }
    assert str(retired.public_id) not in eligible and str(other_specialty.public_id) not in eligible
    assert payload(event("evaluation.drawing_commit", drawing))["excluded_counts"] == {
        "conflict": 1, "employer": 2, "no_account": 1, "unavailable": 1}


def test_an_expert_on_another_panel_at_the_same_time_is_unavailable(eval_world, clock):
    busy_session = eval_world.seated(experts=5, starts_in=timedelta(hours=1))
    eval_world.pool(5)
    other = factories.make_tender(eval_world.host, state="published")
    lot = other.lots.get()
    lot.state = "evaluating"
    lot.save()
    starts = timezone.now() + timedelta(hours=2)
    drawing = service.drawing_request(by=actor(eval_world.centre), lot=lot, session_starts_at=starts,
                                      session_ends_at=starts + timedelta(hours=2), slots=[{"specialty": "A08", "count": 5}])
    busy = {str(m.expert.public_id) for m in busy_session.drawing.members.all()}
    assert busy.isdisjoint(drawing.eligible["A08"])
    assert {x["expert"] for x in drawing.excluded} == busy


@pytest.mark.parametrize("kwargs, message", [
    ({"experts": 4}, "5"),
    ({"experts": 6}, "单数"),
    ({"slots": [{"specialty": "A08", "count": 3}], "reps": 2}, "三分之二"),
    ({"experts": 9}, "只有8人"),
    ({"slots": [{"specialty": "A99", "count": 5}]}, "A99"),
])
def test_panel_rules_and_a_short_pool_are_refused_with_the_reason_and_nothing_is_stored(eval_world, kwargs, message):
    eval_world.pool(8)
    if kwargs.get("reps"):
        kwargs["representatives"] = [factories.make_user(eval_world.tender.tenderer) for _ in range(kwargs["reps"])]
    with pytest.raises(DomainError) as refused:
        request(eval_world, **kwargs)
    assert message in str(refused.value.message)
    assert not Drawing.objects.exists()
    assert not AuditEvent.objects.filter(action="evaluation.drawing_commit").exists()


def test_representatives_are_seated_after_the_experts(eval_world):
    eval_world.pool(6)
    rep = factories.make_user(eval_world.tender.tenderer)
    with pytest.raises(DomainError, match="应指定"):
        request(eval_world, experts=4, reps=1)
    outsider = person("tenderer")
    with pytest.raises(DomainError, match="招标人单位"):
        request(eval_world, experts=4, reps=1, representatives=[outsider])
    drawing = drawn(eval_world, experts=4, reps=1, representatives=[rep])
    seats = {m.seat: m for m in serving(drawing)}
    assert sorted(seats) == [1, 2, 3, 4, 5]
    assert seats[5].user == rep and seats[5].kind == "representative"
    assert service.replace_member(by=actor(rep), member=seats[5], status="declined", reason="出差") is None
    seats[5].refresh_from_db()
    assert seats[5].status == MemberStatus.DECLINED



def test_a_representative_who_declined_is_replaced_by_another_the_tenderer_names(eval_world):
    """Without it the seat stays empty and the panel can never be complete (the room cannot lock)."""
    eval_world.pool(6)
    rep, other = factories.make_user(eval_world.tender.tenderer), factories.make_user(eval_world.tender.tenderer)
    drawing = drawn(eval_world, experts=4, reps=1, representatives=[rep])
    seat5 = drawing.members.get(seat=5)
    with pytest.raises(DomainError) as caught:  # still serving: nothing to fill
        service.representative_name(by=actor(eval_world.centre), member=seat5, user=other)
    assert caught.value.code == "not_vacant"
    service.replace_member(by=actor(rep), member=seat5, status="declined", reason="出差")
    with pytest.raises(PermissionDenied):
        service.representative_name(by=actor(rep), member=seat5, user=other)
    for wrong in (rep, person("tenderer"), drawing.members.get(seat=1).user):
        with pytest.raises(DomainError):
            service.representative_name(by=actor(eval_world.centre), member=seat5, user=wrong)
    new = service.representative_name(by=actor(eval_world.centre), member=seat5, user=other)
    assert {m.seat: m.user for m in serving(drawing)}[5] == other and new.kind == "representative"
    seat5.refresh_from_db()
    assert seat5.replaced_by == new
    assert AuditEvent.objects.filter(action="evaluation.representative_name").count() == 1
    with pytest.raises(DomainError):  # filled already
        service.representative_name(by=actor(eval_world.centre), member=seat5, user=factories.make_user(eval_world.tender.tenderer))


def test_one_drawing_per_lot_and_the_session_must_be_ahead(eval_world):
    eval_world.pool(6)
    with pytest.raises(DomainError, match="晚于当前时间"):
        request(eval_world, starts_in=timedelta(minutes=-5))
    drawn(eval_world)
    with pytest.raises(DomainError, match="已抽取"):
        request(eval_world)


@pytest.mark.parametrize("kind", ["bidder", "tenderer", "agency", "regulator", "expert"])
def test_only_centre_staff_request_and_run(eval_world, kind):
    eval_world.pool(6)
    someone = make_expert().user if kind == "expert" else person(kind)
    with pytest.raises(PermissionDenied):
        request(eval_world, by=someone)
    drawing = request(eval_world)
    with pytest.raises(PermissionDenied):
        service.drawing_run(by=actor(someone), drawing=drawing)
    with pytest.raises(PermissionDenied):
        service.publish_result(by=actor(someone), drawing=drawing)


def test_declines_are_replaced_from_the_rest_never_re_picking_anyone(eval_world):
    eval_world.pool(7)
    drawing = drawn(eval_world)
    first = {str(m.expert.public_id) for m in serving(drawing)}
    seat2 = drawing.members.get(seat=2)
    substitute = service.replace_member(by=actor(seat2.user), member=seat2, status="declined", reason="身体不适")
    assert substitute.seat == 2 and substitute.round == 1 and substitute.specialty == "A08"
    assert str(substitute.expert.public_id) not in first
    seat2.refresh_from_db()
    assert seat2.status == MemberStatus.DECLINED and seat2.replaced_by == substitute and seat2.status_reason == "身体不适"
    # The substitute declines too: the last one left is drawn, never anyone drawn before.
    second = service.replace_member(by=actor(eval_world.centre), member=substitute, status="declined", reason="电话告知出差")
    everyone = set(drawing.eligible["A08"])
    assert {str(second.expert.public_id)} == everyone - first - {str(substitute.expert.public_id)}
    drawing.refresh_from_db()
    assert len(drawing.rounds) == 3
    assert AuditEvent.objects.filter(action="evaluation.member_replace").count() == 2
    # Nobody is left: refused with the reason, nothing changes, the panel keeps its 5 serving members.
    seat3 = drawing.members.get(seat=3)
    with pytest.raises(DomainError, match="无法补抽"):
        service.replace_member(by=actor(seat3.user), member=seat3, status="declined", reason="有事")
    seat3.refresh_from_db()
    drawing.refresh_from_db()
    assert seat3.serving and len(drawing.rounds) == 3 and len(serving(drawing)) == 5
    # The stored rounds still verify from the seed.
    verdict = algorithm.verify(bytes.fromhex(drawing.seed_hex), drawing.seed_commitment, algorithm.DrawingRequest.from_json(drawing.request_json),
                               drawing.eligible, [algorithm.Round.from_json(r) for r in drawing.rounds])
    assert verdict.ok, verdict.problems


def test_answers_and_replacements_are_refused_when_not_allowed(eval_world, clock):
    eval_world.pool(7)
    drawing = drawn(eval_world)
    seat1, seat2 = drawing.members.get(seat=1), drawing.members.get(seat=2)
    with pytest.raises(PermissionDenied):
        service.replace_member(by=actor(seat2.user), member=seat1, status="declined", reason="x")
    with pytest.raises(PermissionDenied):
        service.member_confirm(by=actor(seat2.user), member=seat1)
    with pytest.raises(DomainError, match="原因"):
        service.replace_member(by=actor(seat1.user), member=seat1, status="declined", reason=" ")
    with pytest.raises(DomainError):
        service.replace_member(by=actor(seat1.user), member=seat1, status="confirmed", reason="x")
    service.member_confirm(by=actor(seat1.user), member=seat1)
    assert PanelMember.objects.get(pk=seat1.pk).status == MemberStatus.CONFIRMED
    clock.advance(hours=3)  # the session has started
    with pytest.raises(DomainError, match="已开始"):
        service.replace_member(by=actor(seat2.user), member=seat2, status="declined", reason="有事")
    with pytest.raises(DomainError, match="已开始"):
        service.member_confirm(by=actor(seat2.user), member=seat2)
    # A conflict found at check-in is still a recusal, replaced from the rest.
    substitute = service.replace_member(by=actor(seat2.user), member=seat2, status="recused", reason="与投标人有利害关系")
    assert substitute.seat == 2


def test_publish_reveals_the_seed(eval_world):
    eval_world.pool(6)
    drawing = drawn(eval_world)
    with pytest.raises(DomainError):
        service.publish_result(by=actor(eval_world.centre), drawing=request_other(eval_world))
    drawing = service.publish_result(by=actor(eval_world.centre), drawing=drawing)
    assert drawing.state == DrawingState.PUBLISHED and drawing.seed_revealed and drawing.published_at
    assert payload(event("drawing.publish", drawing))["seed"] == drawing.seed_hex
    assert service.publish_result(by=actor(eval_world.centre), drawing=drawing).state == DrawingState.PUBLISHED


def request_other(world):
    """A committed (not yet run) drawing of another lot."""
    other = factories.make_tender(world.host, state="published")
    lot = other.lots.get()
    lot.state = "evaluating"
    lot.save()
    starts = timezone.now() + timedelta(days=2)
    return service.drawing_request(by=actor(world.centre), lot=lot, session_starts_at=starts, session_ends_at=starts + timedelta(hours=2),
                                   slots=[{"specialty": "A08", "count": 5}])


def test_names_only_for_centre_staff_until_the_result(eval_world):
    world = eval_world
    world.pool(6)
    drawing = drawn(world)
    member = drawing.members.get(seat=1)
    other = drawing.members.get(seat=2)
    name = member.expert.name
    assert selectors_pool.member_label(member, world.centre) == f"专家1 {name}"
    for viewer in (world.tenderer, world.host, world.regulator, world.bidders[0].user, other.user, None):
        assert selectors_pool.member_label(member, viewer) == "专家1"
    assert selectors_pool.member_label(member, member.user) == f"专家1 {name}"  # their own seat
    service.publish_result(by=actor(world.centre), drawing=drawing)
    member = PanelMember.objects.select_related("drawing", "expert").get(pk=member.pk)
    for viewer in (world.tenderer, world.regulator, other.user):
        assert selectors_pool.member_label(member, viewer) == f"专家1 {name}"
    assert selectors_pool.member_label(member, world.bidders[0].user) == "专家1"  # bidders do not see the drawing


def test_a_drawing_without_a_record_to_draw_from_refuses_a_replacement_clearly(eval_world):
    session = eval_world.seated(experts=5)  # written by hand, not drawn: no request, pool or rounds
    member = session.drawing.members.get(seat=1)
    with pytest.raises(DomainError, match="没有可复算的抽取记录"):
        service.replace_member(by=actor(member.user), member=member, status="recused", reason="利害关系")
    member.refresh_from_db()
    assert member.serving
