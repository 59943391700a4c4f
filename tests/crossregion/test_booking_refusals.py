"""Booking refusals: replayed and retried messages, forged or mismatched assignments, illegal steps,
missing reasons, the partner's pool that cannot fill the seats; each a clear error that changes nothing."""

# ruff: noqa: F811  (pytest fixtures imported from booking_world and the evaluation world)
from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit import platform_key
from config.errors import DomainError
from crossregion import inbox, protocol
from crossregion.identity import own_key_id, sign_document
from crossregion.models import AgreementState, Booking, BookingRole, BookingState, InboundMessage, PartnerDrawing
from crossregion.protocol_vectors import keys
from crossregion.services import booking as host
from crossregion.services import partner_drawing as partner
from evaluation.models import ExpertUnavailability, PanelMember
from tests.evaluation.world import clock, eval_world  # noqa: F401  (fixtures)
from tests.factories import actor, person

from .booking_world import DG, ZS, cities  # noqa: F401  (fixture)
from .test_booking_flow import ask, at_partner

pytestmark = pytest.mark.django_db


def send_as(cities, sender: str, type: str, body: dict, *, idempotency_key: str | None = None):
    """Post a message signed by `sender`'s platform key to the other city's inbox: (status, answer, wire)."""
    recipient = DG if sender == ZS else ZS
    with cities.city(sender):
        envelope = protocol.build_envelope(type=type, sender=sender, recipient=recipient, key_id=own_key_id(), body=body,
                                           idempotency_key=idempotency_key or f"test:{protocol.new_nonce()}", sent_at=timezone.now())
        raw = protocol.wire(envelope, protocol.sign_envelope(envelope, platform_key.private_key()))
    with cities.city(recipient):
        status, answer = inbox.receive(raw)
    return status, answer, raw


def approved_at_partner(cities):
    """A booking Zhongshan approved, its booking.approve still in the outbox (not delivered)."""
    cities.partner_pool(3)
    booking = ask(cities)
    cities.pump()
    with cities.city(ZS):
        partner.booking_approve(by=cities.staff(), booking=at_partner(booking))
    return booking, at_partner(booking)


def test_a_replayed_approval_is_refused_and_a_retry_is_not_acted_on_twice(cities):
    booking, _incoming = approved_at_partner(cities)
    cities.pump()
    message = InboundMessage.objects.get(type="booking.approve")
    with cities.city(DG):
        status, answer = inbox.receive(protocol.wire(message.envelope, message.signature))
    assert status == 409 and answer["code"] == "replayed"
    # The outbox's retry: fresh nonce, same idempotency key and body -> the stored answer, no new action.
    status, answer, _raw = send_as(cities, ZS, "booking.approve", message.envelope["body"], idempotency_key=message.idempotency_key)
    assert status == 200 and answer == message.response
    booking.refresh_from_db()
    assert booking.state == BookingState.APPROVED and booking.assignment_version == 1
    assert InboundMessage.objects.filter(type="booking.approve").count() == 1


@pytest.mark.parametrize("forgery", ["other_key", "tampered", "other_booking", "other_lot", "seat_count", "version"])
def test_a_forged_or_mismatched_assignment_is_refused_and_changes_nothing(cities, forgery):
    booking, incoming = approved_at_partner(cities)
    signed = copy.deepcopy(incoming.assignment)
    doc = signed["document"]
    with cities.city(ZS):
        if forgery == "other_key":
            signed = protocol.sign_document(doc, keys()[0])
        elif forgery == "tampered":
            signed["document"]["seats"][0]["expert"] = "00000000-0000-0000-0000-000000000000"
        elif forgery == "other_booking":
            signed = sign_document({**doc, "booking": "00000000-0000-4000-8000-000000000000"})
        elif forgery == "other_lot":
            signed = sign_document({**doc, "lot": "999999"})
        elif forgery == "seat_count":
            signed = sign_document({**doc, "seats": doc["seats"][:1]})
        else:
            signed = sign_document({**doc, "version": 2})
    status, answer, _raw = send_as(cities, ZS, "booking.approve", {"booking": str(booking.uuid), "assignment": signed})
    assert status == 422 and answer["code"] == "bad_assignment"
    booking.refresh_from_db()
    assert booking.state == BookingState.REQUESTED and booking.assignment == {}
    assert not InboundMessage.objects.filter(type="booking.approve").exists()
    assert not PanelMember.objects.filter(venue="away").exists()


def test_unknown_booking_and_malformed_request_are_refused(cities):
    status, answer, _raw = send_as(cities, ZS, "booking.reject", {"booking": "00000000-0000-4000-8000-000000000000", "reason": "x"})
    assert status == 422 and answer["code"] == "unknown_booking"
    status, answer, _raw = send_as(cities, DG, "booking.request", {"booking": "not-a-uuid"})
    assert status == 422 and answer["code"] == "booking_invalid"
    assert not Booking.objects.exists()


def test_approve_a_cancelled_booking_and_other_illegal_steps(cities):
    cities.partner_pool(3)
    booking = ask(cities)
    cities.pump()
    staff = cities.staff()
    # Only the partner approves, rejects or proposes; only the host accepts.
    with pytest.raises(DomainError) as error:
        partner.booking_approve(by=staff, booking=booking)
    assert error.value.code == "wrong_role"
    with cities.city(ZS):
        with pytest.raises(DomainError) as error:
            host.booking_accept(by=staff, booking=at_partner(booking))
        assert error.value.code == "wrong_role"
    with pytest.raises(DomainError) as error:
        host.booking_accept(by=staff, booking=booking)
    assert error.value.code == "booking_state"
    # Reasons are required.
    with cities.city(ZS):
        with pytest.raises(DomainError) as error:
            partner.booking_reject(by=staff, booking=at_partner(booking), reason=" ")
        assert error.value.code == "reason_required"
    with pytest.raises(DomainError) as error:
        host.booking_cancel(by=staff, booking=booking, reason="")
    assert error.value.code == "reason_required"
    # A proposal identical to the request is no proposal.
    with cities.city(ZS):
        with pytest.raises(DomainError) as error:
            partner.booking_propose(by=staff, booking=at_partner(booking), starts_at=booking.starts_at, ends_at=booking.ends_at,
                                    seats=booking.seats)
        assert error.value.code == "proposal_same"
    # The host cancels; approving the cancelled booking is refused and draws nothing.
    host.booking_cancel(by=staff, booking=booking, reason="改期")
    cities.pump()
    with cities.city(ZS):
        with pytest.raises(DomainError) as error:
            partner.booking_approve(by=staff, booking=at_partner(booking))
        assert error.value.code == "booking_state" and "已取消" in str(error.value.message)
    assert not PartnerDrawing.objects.exists() and not ExpertUnavailability.objects.exists()
    with pytest.raises(DomainError) as error:
        host.booking_cancel(by=staff, booking=booking, reason="再次取消")
    assert error.value.code == "booking_state"


def test_one_open_booking_per_lot_and_partner(cities):
    ask(cities)
    with pytest.raises(DomainError) as error:
        ask(cities)
    assert error.value.code == "booking_exists"
    assert Booking.objects.filter(role=BookingRole.HOST).count() == 1


def test_no_booking_without_a_valid_agreement(cities):
    agreement = cities.agreements[DG]
    agreement.state = AgreementState.REVOKED
    agreement.save()
    with pytest.raises(DomainError) as error:
        ask(cities)
    assert error.value.code == "no_agreement"


def test_a_session_in_the_past_is_refused(cities):
    with pytest.raises(DomainError) as error:
        ask(cities, starts_in=-timedelta(hours=1))
    assert error.value.code == "session_time"


def test_a_pool_that_cannot_fill_the_seats_refuses_the_approval_with_the_reason(cities):
    cities.partner_pool(1)
    cities.partner_pool(2, employer_credit_code=cities.world.bidders[0].organisation.credit_code)  # recused
    booking = ask(cities)
    cities.pump()
    with cities.city(ZS):
        with pytest.raises(DomainError) as error:
            partner.booking_approve(by=cities.staff(), booking=at_partner(booking))
        assert error.value.code == "drawing_refused"
        assert at_partner(booking).state == BookingState.REQUESTED
    assert not PartnerDrawing.objects.exists()


def test_regulators_cannot_act(cities):
    regulator = person("regulator")
    with pytest.raises(PermissionDenied):
        host.booking_request(by=actor(regulator), lot=cities.world.lot, partner=cities.zs_at_dg, starts_at=timezone.now() + timedelta(hours=2),
                             ends_at=timezone.now() + timedelta(hours=6), seats=[{"specialty": "A03", "count": 2}], home_experts=3)
    booking = ask(cities)
    cities.pump()
    with cities.city(ZS):
        with pytest.raises(PermissionDenied):
            partner.booking_approve(by=actor(regulator), booking=at_partner(booking))


def test_the_partner_does_not_draw_without_an_agreement_covering_drawing(cities):
    cities.partner_pool(3)
    booking = ask(cities)
    cities.pump()
    agreement = cities.agreements[ZS]
    agreement.scope = ["booking"]
    agreement.save()
    with cities.city(ZS):
        with pytest.raises(DomainError) as error:
            partner.booking_approve(by=cities.staff(), booking=at_partner(booking))
        assert error.value.code == "no_agreement"
    assert not PartnerDrawing.objects.exists()


@pytest.mark.parametrize("forgery", ["other_key", "wrong_seed", "other_experts"])
def test_forged_names_are_not_kept(cities, forgery):
    from crossregion import booking_protocol as bp
    from crossregion.models import OutboundMessage
    from evaluation.models import Drawing
    from evaluation.services import drawing as evaluation_drawing

    from .test_booking_flow import home_drawing

    cities.partner_pool(3)
    cities.world.pool(3)
    booking = ask(cities)
    home_drawing(cities, booking)
    cities.pump()
    with cities.city(ZS):
        partner.booking_approve(by=cities.staff(), booking=at_partner(booking))
    cities.pump()
    booking.refresh_from_db()
    evaluation_drawing.publish_result(by=cities.staff(), drawing=Drawing.objects.get(lot=cities.world.lot))
    host.names_request(by=cities.staff(), booking=booking)
    message = OutboundMessage.objects.get(type="booking.names")
    drawing = PartnerDrawing.objects.get(booking__uuid=booking.uuid)
    seats = booking.assignment["document"]["seats"]
    names = [{"expert": s["expert"], "name": "某专家"} for s in seats]
    seed = drawing.seed_hex if forgery != "wrong_seed" else "0" * 64
    if forgery == "other_experts":
        names = [{"expert": "someone-else", "name": "某专家"}, *names[1:]]
    doc = bp.build_names(booking=str(booking.uuid), version=1, drawing_id=drawing.pk, commitment=drawing.seed_commitment, seed=seed,
                         names=names, issued_at=protocol.format_time(timezone.now()))
    with cities.city(ZS):
        signed = protocol.sign_document(doc, keys()[0]) if forgery == "other_key" else sign_document(doc)
    host.names_delivered(message=message, result={"names": signed})
    booking.refresh_from_db()
    assert booking.names == {} and host.names_of(booking) == {}
    assert booking.history[-1]["step"] == "names" and booking.history[-1]["note"]
