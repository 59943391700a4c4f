"""Federated sign-in at home (crossregion/views_federation.py my_away/away_enter): our expert sees
the away seats the partner's signed assignments give them ("我的异地评标") and, pressing
"进入主场评标室", gets a federation token for their OWN seat only, handed to the host's
federated-login endpoint in a form the page posts (never in a URL)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit import platform_key
from audit.models import AuditEvent
from crossregion import protocol
from crossregion.models import AgreementState
from crossregion.models_booking import Booking
from tests.evaluation.world import make_expert
from tests.factories import person

from .conftest import OWN, PARTNER, signed_agreement

pytestmark = pytest.mark.django_db
AWAY = "/crossregion/away/"
ENTER = "/crossregion/away/enter/"


def approved_booking(partner, expert, *, lot_ref="17", state="approved") -> Booking:
    """A booking the host (the partner here) made with us, approved: our drawing seated `expert`."""
    starts = timezone.now() + timedelta(hours=1)
    times = {"starts_at": protocol.format_time(starts), "ends_at": protocol.format_time(starts + timedelta(hours=4))}
    document = {"format": "etender-assignment/1", "booking": str(uuid.uuid4()), "version": 1, "host": partner.region_code,
                "partner": OWN, "lot": lot_ref, "session": times, "drawing": {}, "issued_at": times["starts_at"],
                "seats": [{"specialty": "A08", "expert": str(expert.public_id), "public_jwk": None, "round": 0}]}
    return Booking.objects.create(
        uuid=document["booking"], role="partner", partner=partner, state=state, tender_code="ZS-2026-001", tender_title="中山某项目",
        lot_ref=lot_ref, lot_label="第1标段", starts_at=starts, ends_at=starts + timedelta(hours=4), seats=[{"specialty": "A08", "count": 1}],
        assignment={"document": document, "signature": "", "key_id": ""}, assignment_version=1,
    )


@pytest.fixture
def seated(partner):
    signed_agreement(partner)
    expert = make_expert()
    booking = approved_booking(partner, expert)
    client = Client()
    client.force_login(expert.user)
    return expert, booking, client


def test_the_expert_sees_their_away_seat_and_enters_with_a_token_for_it(seated, partner):
    expert, booking, client = seated
    page = client.get(AWAY)
    assert page.status_code == 200 and "ZS-2026-001" in page.content.decode() and "进入主场评标室" in page.content.decode()
    response = client.post(ENTER, {"seat": str(booking.uuid)})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    html = response.content.decode()
    action = re.search(r'<form method="post" action="([^"]+)" id="federated-redirect">', html)[1]
    assert action == "http://127.0.0.1:9/crossregion/federated-login/"
    tok = re.search(r'name="token" value="([^"]+)"', html)[1]
    payload = protocol.verify_token(tok, public_raw=platform_key.public_key_bytes(), audience=PARTNER, now=timezone.now())
    assert (payload["iss"], payload["sub"], payload["session"]) == (OWN, str(expert.public_id), "17")
    assert payload["exp"] - payload["iat"] <= 300
    issued = AuditEvent.objects.get(action="federation.token_issue")
    assert payload["jti"] in issued.body


def test_a_token_only_for_the_experts_own_seat(seated, partner):
    _, booking, _ = seated
    other = make_expert()
    client = Client()
    client.force_login(other.user)
    assert "ZS-2026-001" not in client.get(AWAY).content.decode()
    assert client.post(ENTER, {"seat": str(booking.uuid)}).status_code == 403
    assert client.post(ENTER, {"seat": "garbage"}).status_code == 403
    assert not AuditEvent.objects.filter(action="federation.token_issue").exists()


def test_people_who_are_not_pool_experts_get_nothing(seated):
    _, booking, _ = seated
    for user in (person("bidder"), person("regulator")):
        client = Client()
        client.force_login(user)
        assert client.get(AWAY).status_code == 403
        assert client.post(ENTER, {"seat": str(booking.uuid)}).status_code == 403
    assert Client().post(ENTER, {"seat": str(booking.uuid)}).status_code == 302  # to sign in
    assert not AuditEvent.objects.filter(action="federation.token_issue").exists()


def test_bookings_not_approved_give_no_seat(seated, partner):
    _expert, booking, client = seated
    Booking.objects.filter(pk=booking.pk).update(state="cancelled")
    assert "ZS-2026-001" not in client.get(AWAY).content.decode()
    assert client.post(ENTER, {"seat": str(booking.uuid)}).status_code == 403


def test_no_token_without_a_valid_agreement(seated, partner):
    _, booking, client = seated
    partner.agreements.update(state=AgreementState.REVOKED)
    assert "无有效协议" in client.get(AWAY).content.decode()
    response = client.post(ENTER, {"seat": str(booking.uuid)})
    assert response.status_code == 403 and response.context["code"] == "token_no_agreement"
    assert not AuditEvent.objects.filter(action="federation.token_issue").exists()
