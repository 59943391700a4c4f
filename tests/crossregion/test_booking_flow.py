"""Venue booking and partner drawing between two platforms in one process (tests/crossregion/booking_world.py):
Dongguan asks Zhongshan for two seats, Zhongshan's staff approve, Zhongshan draws from its own pool
with recusal against the bidders and tenderer Dongguan named and returns a signed assignment;
Dongguan verifies it and seats the away experts in its drawing, the panel rules holding over the
whole panel (3 home + 2 away)."""

# ruff: noqa: F811  (pytest fixtures imported from booking_world and the evaluation world)
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import credit_code
from audit.models import AuditEvent
from crossregion import protocol
from crossregion.models import Booking, BookingRole, BookingState, InboundMessage, PartnerDrawing
from crossregion.services import booking as host
from crossregion.services import partner_drawing as partner
from evaluation import drawing as algorithm
from evaluation.models import ExpertConflict, ExpertKey, ExpertUnavailability, MemberStatus, PanelMember
from evaluation.services import drawing as evaluation_drawing
from tests.evaluation.world import clock, eval_world  # noqa: F401  (fixtures)

from .booking_world import DG, ZS, cities  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def ask(cities, *, seats=2, home=3, starts_in=timedelta(hours=2)):
    starts = timezone.now() + starts_in
    return host.booking_request(by=cities.staff(), lot=cities.world.lot, partner=cities.zs_at_dg, starts_at=starts,
                                ends_at=starts + timedelta(hours=6), seats=[{"specialty": "A03", "count": seats}], home_experts=home)


def at_partner(booking) -> Booking:
    return Booking.objects.get(uuid=booking.uuid, role=BookingRole.PARTNER)


def home_drawing(cities, booking, *, away=2):
    return evaluation_drawing.drawing_run(by=cities.staff(), drawing=evaluation_drawing.drawing_request(
        by=cities.staff(), lot=cities.world.lot, session_starts_at=booking.starts_at, session_ends_at=booking.ends_at,
        slots=[{"specialty": "A08", "count": 3}], away_seats=[{"specialty": "A03", "count": away, "partner": ZS}]))


def payload(event) -> dict:
    return json.loads(event.body)["payload"]


def test_request_approve_draw_with_recusal_signed_assignment_and_away_members(cities):
    world = cities.world
    bidder_code, tenderer_code = world.bidders[0].organisation.credit_code, world.tender.tenderer.credit_code
    good = cities.partner_pool(4)
    bidders_employee = cities.partner_pool(1, employer_credit_code=bidder_code)[0]
    conflicted = cities.partner_pool(1, employer_credit_code=credit_code.complete("91442000555000001"))[0]
    ExpertConflict.objects.create(expert=conflicted, organisation_credit_code=tenderer_code)
    world.pool(3)  # Dongguan's home experts (A08)

    # Dongguan asks; the request names the lot's bidders and tenderer for recusal.
    booking = ask(cities)
    assert booking.role == BookingRole.HOST and booking.state == BookingState.REQUESTED
    assert bidder_code in {b["credit_code"] for b in booking.parties["bidders"]} and booking.parties["tenderer"]["credit_code"] == tenderer_code
    answers = cities.pump()
    assert answers == [("booking.request", ZS, 200, {"ok": True, "result": {"booking": str(booking.uuid), "state": "requested", "revision": 1}})]

    # Zhongshan's staff see it and approve: the drawing from Zhongshan's own pool.
    with cities.city(ZS):
        incoming = at_partner(booking)
        assert incoming.partner == cities.dg_at_zs and incoming.lot is None and incoming.seats == [{"specialty": "A03", "count": 2}]
        partner.booking_approve(by=cities.staff(), booking=incoming)
    drawing = PartnerDrawing.objects.get(booking__uuid=booking.uuid)
    assert set(drawing.eligible["A03"]) == {str(e.public_id) for e in good}
    excluded = {x["expert"]: x["reasons"] for x in drawing.excluded}
    assert excluded == {str(bidders_employee.public_id): ["employer"], str(conflicted.public_id): ["conflict"]}
    # The same verifiable drawing: commitment before the draw, re-run from the seed, whole-panel rules.
    commit = AuditEvent.objects.get(action="crossregion.partner_drawing_commit", object_id=str(drawing.pk))
    draw = AuditEvent.objects.get(action="crossregion.partner_drawing_draw", object_id=str(drawing.pk))
    assert commit.seq < draw.seq and drawing.seed_hex not in commit.body
    request = algorithm.DrawingRequest.from_json(drawing.request_json)
    assert request.remote_experts == 3 and request.total == 5
    rounds = [algorithm.Round.from_json(r) for r in drawing.rounds]
    assert algorithm.verify(bytes.fromhex(drawing.seed_hex), payload(commit)["commitment"], request, drawing.eligible, rounds,
                            context=payload(commit)["context"]).ok
    drawn = [pick.expert for pick in rounds[0].picks]
    # The drawn are reserved for the session at Zhongshan.
    assert ExpertUnavailability.objects.filter(expert__public_id__in=drawn, reason__contains=str(booking.uuid)).count() == 2

    answers = cities.pump()
    assert [(t, to, status) for t, to, status, _a in answers] == [("booking.approve", DG, 200)]
    assert answers[0][3]["result"]["seated"] is False  # Dongguan has not drawn its home seats yet
    booking.refresh_from_db()
    assert booking.state == BookingState.APPROVED and booking.assignment_version == 1
    doc = booking.assignment["document"]
    assert doc["format"] == "etender-assignment/1" and doc["host"] == DG and doc["partner"] == ZS and doc["lot"] == str(world.lot.pk)
    assert doc["drawing"] == {"id": drawing.pk, "algorithm": "etender-drawing-v1", "commitment": drawing.seed_commitment,
                              "context": payload(commit)["context"], "request": drawing.request_json}
    assert [s["expert"] for s in doc["seats"]] == drawn and {s["specialty"] for s in doc["seats"]} == {"A03"}
    keys = {str(e.public_id): ExpertKey.objects.get(user=e.user).public_jwk for e in good}
    assert all(s["public_jwk"] == keys[s["expert"]] for s in doc["seats"])
    assert not any(e.name in json.dumps(doc, ensure_ascii=False) for e in good)  # names only at the result

    # Dongguan draws its three home seats with two away seats reserved, then seats the away experts.
    home_drawing(cities, booking)
    host.assignment_seat(by=cities.staff(), booking=booking)
    members = list(PanelMember.objects.filter(drawing__lot=world.lot, status=MemberStatus.DRAWN).order_by("seat"))
    assert [(m.seat, m.venue) for m in members] == [(1, "host"), (2, "host"), (3, "host"), (4, "away"), (5, "away")]
    away = members[3:]
    assert [m.remote_expert_id for m in away] == drawn and all(m.expert_id is None and m.remote_region == ZS for m in away)
    assert all(m.remote_public_jwk == keys[m.remote_expert_id] for m in away)
    assert away[0].drawing.panel_size == 5
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"crossregion.booking_request", "crossregion.booking_received", "booking.approve", "evaluation.away_members_seat"} <= actions


def test_assignment_arriving_after_the_home_drawing_seats_the_away_experts_at_once(cities):
    cities.partner_pool(3)
    cities.world.pool(3)
    booking = ask(cities)
    home_drawing(cities, booking)
    cities.pump()
    with cities.city(ZS):
        partner.booking_approve(by=cities.staff(), booking=at_partner(booking))
    (answer,) = cities.pump()
    assert answer[3]["result"]["seated"] is True
    assert PanelMember.objects.filter(drawing__lot=cities.world.lot, venue="away", status=MemberStatus.DRAWN).count() == 2


def test_whole_panel_rules_refuse_a_booking_that_makes_an_even_panel(cities):
    from config.errors import DomainError

    with pytest.raises(DomainError) as error:
        ask(cities, seats=1, home=3)
    assert error.value.code == "panel_rules" and "单数" in str(error.value.message)
    assert not Booking.objects.exists()


def test_propose_accept_then_approve(cities):
    cities.partner_pool(3)
    booking = ask(cities)
    cities.pump()
    later = booking.starts_at + timedelta(days=1)
    with cities.city(ZS):
        partner.booking_propose(by=cities.staff(), booking=at_partner(booking), starts_at=later, ends_at=later + timedelta(hours=4),
                                seats=[{"specialty": "A03", "count": 2}], note="当天场地已满，建议次日")
    cities.pump()
    booking.refresh_from_db()
    assert booking.state == BookingState.PROPOSED and booking.proposal["note"] == "当天场地已满，建议次日"
    host.booking_accept(by=cities.staff(), booking=booking)
    cities.pump()
    booking.refresh_from_db()
    incoming = at_partner(booking)
    assert booking.state == incoming.state == BookingState.REQUESTED and booking.revision == incoming.revision == 2
    assert booking.starts_at == incoming.starts_at == later and incoming.proposal == {}
    with cities.city(ZS):
        partner.booking_approve(by=cities.staff(), booking=incoming)
    cities.pump()
    booking.refresh_from_db()
    assert booking.state == BookingState.APPROVED
    assert booking.assignment["document"]["session"]["starts_at"] == protocol.format_time(later)


def test_reject_with_reason(cities):
    booking = ask(cities)
    cities.pump()
    with cities.city(ZS):
        partner.booking_reject(by=cities.staff(), booking=at_partner(booking), reason="评标室检修")
    cities.pump()
    booking.refresh_from_db()
    assert booking.state == BookingState.REJECTED and booking.reason == "评标室检修"
    assert [h["step"] for h in booking.history] == ["request", "reject"]


def test_host_cancels_after_approval_releases_the_reservation_and_the_away_seats(cities):
    cities.partner_pool(3)
    cities.world.pool(3)
    booking = ask(cities)
    home_drawing(cities, booking)
    cities.pump()
    with cities.city(ZS):
        partner.booking_approve(by=cities.staff(), booking=at_partner(booking))
    cities.pump()
    assert ExpertUnavailability.objects.filter(reason__contains=str(booking.uuid)).count() == 2
    host.booking_cancel(by=cities.staff(), booking=booking, reason="项目暂停")
    cities.pump()
    booking.refresh_from_db()
    incoming = at_partner(booking)
    assert booking.state == incoming.state == BookingState.CANCELLED
    assert booking.cancelled_by_us is True and incoming.cancelled_by_us is False and incoming.reason == "项目暂停"
    assert not ExpertUnavailability.objects.filter(reason__contains=str(booking.uuid)).exists()
    assert not PanelMember.objects.filter(venue="away", status=MemberStatus.DRAWN).exists()
    assert PanelMember.objects.filter(venue="away", status=MemberStatus.DECLINED).count() == 2


def test_partner_cancels_a_pending_request(cities):
    booking = ask(cities)
    cities.pump()
    with cities.city(ZS):
        host.booking_cancel(by=cities.staff(), booking=at_partner(booking), reason="场地不可用")
    cities.pump()
    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED and booking.cancelled_by_us is False


def test_an_away_expert_who_declines_is_replaced_by_the_partner_in_a_new_signed_version(cities):
    cities.partner_pool(4)
    cities.world.pool(3)
    booking = ask(cities)
    home_drawing(cities, booking)
    cities.pump()
    with cities.city(ZS):
        partner.booking_approve(by=cities.staff(), booking=at_partner(booking))
    cities.pump()
    member = PanelMember.objects.filter(venue="away").order_by("seat").first()
    declined = member.remote_expert_id
    host.away_member_decline(by=cities.staff(), booking=booking, member=member, reason="临时出差")
    answers = cities.pump()
    assert [(t, s) for t, _to, s, _a in answers] == [("booking.replace", 200)]
    booking.refresh_from_db()
    member.refresh_from_db()
    assert booking.assignment_version == 2 and booking.assignment["document"]["version"] == 2
    assert member.status == MemberStatus.DECLINED and member.replaced_by.seat == member.seat
    substitute = member.replaced_by
    assert substitute.venue == "away" and substitute.remote_expert_id not in (declined, "") and substitute.status == MemberStatus.DRAWN
    drawing = PartnerDrawing.objects.get(booking__uuid=booking.uuid)
    assert len(drawing.rounds) == 2 and drawing.rounds[1]["declined"] == [declined]
    rounds = [algorithm.Round.from_json(r) for r in drawing.rounds]
    assert algorithm.verify(bytes.fromhex(drawing.seed_hex), drawing.seed_commitment, algorithm.DrawingRequest.from_json(drawing.request_json),
                            drawing.eligible, rounds).ok
    assert InboundMessage.objects.filter(type="booking.replace").count() == 1


def test_partner_drawing_verify_matches_and_detects_a_changed_round(cities):
    import io

    from django.core.management import call_command

    cities.partner_pool(4)
    cities.world.pool(3)
    booking = ask(cities)
    home_drawing(cities, booking)
    cities.pump()
    with cities.city(ZS):
        partner.booking_approve(by=cities.staff(), booking=at_partner(booking))
    cities.pump()
    member = PanelMember.objects.filter(venue="away").order_by("seat").first()
    host.away_member_decline(by=cities.staff(), booking=booking, member=member, reason="临时出差")
    cities.pump()
    drawing = PartnerDrawing.objects.get(booking__uuid=booking.uuid)
    with cities.city(ZS):
        out = io.StringIO()
        call_command("partner_drawing_verify", drawing.pk, stdout=out)
        assert f"MATCH partner drawing {drawing.pk} verifies" in out.getvalue() and "FAIL" not in out.getvalue()
        rounds = drawing.rounds
        rounds[0]["picks"].reverse()
        PartnerDrawing.objects.filter(pk=drawing.pk).update(rounds=rounds)
        out = io.StringIO()
        with pytest.raises(SystemExit):
            call_command("partner_drawing_verify", drawing.pk, stdout=out, stderr=io.StringIO())
        assert "FAIL" in out.getvalue()


def test_names_only_after_the_result_with_the_partner_seed_revealed(cities):
    from config.errors import DomainError
    from evaluation.models import Drawing

    experts = cities.partner_pool(3)
    cities.world.pool(3)
    booking = ask(cities)
    home_drawing(cities, booking)
    cities.pump()
    with cities.city(ZS):
        partner.booking_approve(by=cities.staff(), booking=at_partner(booking))
    cities.pump()
    with pytest.raises(DomainError) as error:
        host.names_request(by=cities.staff(), booking=booking)
    assert error.value.code == "result_not_published"
    evaluation_drawing.publish_result(by=cities.staff(), drawing=Drawing.objects.get(lot=cities.world.lot))
    host.names_request(by=cities.staff(), booking=booking)
    answers = cities.pump()
    assert [(t, s) for t, _to, s, _a in answers] == [("booking.names", 200)]
    booking.refresh_from_db()
    drawing = PartnerDrawing.objects.get(booking__uuid=booking.uuid)
    assert drawing.seed_revealed
    published = AuditEvent.objects.get(action="crossregion.partner_drawing_publish", object_id=str(drawing.pk))
    assert payload(published)["seed"] == drawing.seed_hex
    names = host.names_of(booking)
    by_id = {str(e.public_id): e.name for e in experts}
    assert names == {s["expert"]: by_id[s["expert"]] for s in booking.assignment["document"]["seats"]}
    assert booking.names["document"]["drawing"]["seed"] == drawing.seed_hex
    assert AuditEvent.objects.filter(action="crossregion.booking_names").exists()
