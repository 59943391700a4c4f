"""The federated sign-in pages in English (ASCII data): no Chinese left outside the data."""

from __future__ import annotations

import pytest
from django.test import Client

from crossregion.models import Partner
from tests.evaluation.world import clock, make_expert  # noqa: F401  (clock: fixture)
from tests.test_i18n import cjk_outside_language_switch, in_english

from .conftest import signed_agreement
from .test_federation_home import approved_booking

pytestmark = pytest.mark.django_db


def test_my_away_seats_the_hand_over_and_a_refusal_in_english(partner):
    Partner.objects.filter(pk=partner.pk).update(name="Zhongshan")
    partner.refresh_from_db()
    signed_agreement(partner)
    expert = make_expert(name="Expert One")
    booking = approved_booking(partner, expert)
    booking.tender_title, booking.lot_label = "Road works", "Lot 1"
    booking.save(update_fields=["tender_title", "lot_label"])
    client = Client()
    client.force_login(expert.user)
    in_english(client)
    for response in (client.get("/crossregion/away/"), client.post("/crossregion/away/enter/", {"seat": str(booking.uuid)})):
        assert response.status_code == 200
        assert cjk_outside_language_switch(response.content.decode()) == []
    refused = in_english(Client()).post("/crossregion/federated-login/", {"token": "garbage"})
    assert refused.status_code == 400 and "malformed" in refused.content.decode()
    assert cjk_outside_language_switch(refused.content.decode()) == []


def test_the_confinement_refusal_in_english(clock, partner):  # noqa: F811
    from tests.evaluation.world import EvaluationWorld

    from .federation_helpers import confined_client, make_away, shadow

    world = EvaluationWorld(clock)
    world.seated(experts=5)
    member = make_away(world.members[4])
    member.user = shadow(partner)
    member.save(update_fields=["user"])
    client = in_english(confined_client(member.user, world.lot.pk))
    response = client.get("/tenders/")
    assert response.status_code == 403 and "may use only this evaluation" in response.content.decode()
    assert cjk_outside_language_switch(response.content.decode()) == []
