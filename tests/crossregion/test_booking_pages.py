"""Booking pages: the host's staff request seats on the lot and see the booking and its away seats;
the partner's staff see the incoming request, approve (draw) and see the drawing record with names;
regulators read without forms and cannot act; others are refused."""

# ruff: noqa: F811  (pytest fixtures imported from booking_world and the evaluation world)
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crossregion.models import Booking, BookingRole, BookingState
from tests.evaluation.world import clock, eval_world  # noqa: F401  (fixtures)
from tests.factories import person

from .booking_world import ZS, cities  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_host_requests_on_the_lot_page_partner_approves_on_its_page(client, cities):
    experts = cities.partner_pool(3)
    client.force_login(cities.centre)
    lot = cities.world.lot
    assert f"/crossregion/bookings/lot/{lot.pk}/" in client.get("/crossregion/bookings/").content.decode()
    page = client.get(f"/crossregion/bookings/lot/{lot.pk}/")
    assert page.status_code == 200 and "向合作平台申请席位" in page.content.decode()
    starts = timezone.now() + timedelta(hours=3)
    response = client.post(f"/crossregion/bookings/lot/{lot.pk}/", {
        "partner": cities.zs_at_dg.pk, "starts_at": local(starts), "ends_at": local(starts + timedelta(hours=4)),
        "specialty_1": "A03", "count_1": "2", "home_experts": "3", "tenderer_representatives": "0"})
    booking = Booking.objects.get(role=BookingRole.HOST)
    assert response.status_code == 302 and response["Location"] == f"/crossregion/bookings/{booking.pk}/"
    # An even panel is refused with the reason, nothing stored.
    response = client.post(f"/crossregion/bookings/lot/{lot.pk}/", {
        "partner": cities.zs_at_dg.pk, "starts_at": local(starts), "ends_at": local(starts + timedelta(hours=4)),
        "specialty_1": "A03", "count_1": "1", "home_experts": "3", "tenderer_representatives": "0"}, follow=True)
    assert "单数" in response.content.decode() and Booking.objects.filter(role=BookingRole.HOST).count() == 1
    cities.pump()
    with cities.city(ZS):
        incoming = Booking.objects.get(role=BookingRole.PARTNER)
        listing = client.get("/crossregion/bookings/").content.decode()
        assert f"/crossregion/bookings/{incoming.pk}/" in listing
        detail = client.get(f"/crossregion/bookings/{incoming.pk}/").content.decode()
        assert "同意并抽取" in detail and cities.world.bidders[0].organisation.credit_code in detail
        response = client.post(f"/crossregion/bookings/{incoming.pk}/approve/")
        assert response.status_code == 302
        incoming.refresh_from_db()
        assert incoming.state == BookingState.APPROVED
        detail = client.get(f"/crossregion/bookings/{incoming.pk}/").content.decode()
        drawn = {seat["expert"] for seat in incoming.assignment["document"]["seats"]}
        assert "异地专家抽取记录" in detail and incoming.drawing.seed_commitment in detail
        assert all(e.name in detail for e in experts if str(e.public_id) in drawn)  # our own staff see the names
    cities.pump()
    detail = client.get(f"/crossregion/bookings/{booking.pk}/").content.decode()
    assert "已同意并抽取" in detail and all(expert in detail for expert in drawn)
    assert not any(e.name in detail for e in experts)  # the host sees pseudonymous ids only


def test_regulator_reads_without_forms_and_cannot_act(client, cities):
    from .test_booking_flow import ask

    booking = ask(cities)
    regulator = person("regulator")
    client.force_login(regulator)
    assert client.get("/crossregion/bookings/").status_code == 200
    page = client.get(f"/crossregion/bookings/{booking.pk}/").content.decode()
    assert "取消预约" not in page
    lot_page = client.get(f"/crossregion/bookings/lot/{cities.world.lot.pk}/").content.decode()
    assert "发送席位申请" not in lot_page
    assert client.post(f"/crossregion/bookings/{booking.pk}/cancel/", {"reason": "x"}).status_code == 403
    booking.refresh_from_db()
    assert booking.state == BookingState.REQUESTED


def test_bidders_and_experts_are_refused(client, cities):
    from .test_booking_flow import ask

    booking = ask(cities)
    client.force_login(cities.world.bidders[0].user)
    assert client.get("/crossregion/bookings/").status_code == 403
    assert client.get(f"/crossregion/bookings/{booking.pk}/").status_code == 403
