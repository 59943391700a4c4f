"""An away expert signed in through federation may use only the evaluation it came for: that lot's
room and report (and what every page needs); every other page and API is refused (403), even
another room where the same account holds a seat (crossregion/confinement.py). Home users are not
affected."""

from __future__ import annotations

import pytest
from django.test import Client

from crossregion.models import FederatedIdentity
from tests.evaluation.world import EvaluationWorld, clock  # noqa: F401  (fixture)
from tests.tendering.conftest import _fast_and_isolated  # noqa: F401  (autouse fixture)

from .federation_helpers import confined_client, make_away, shadow

pytestmark = pytest.mark.django_db


@pytest.fixture
def worlds(clock, agreement):  # noqa: F811
    """Two lots in evaluation (two tenders); the same away expert holds a seat on both panels."""
    first, second = EvaluationWorld(clock), EvaluationWorld(clock)
    first.seated(experts=5)
    second.seated(experts=5)
    user = shadow(agreement.partner)
    for world in (first, second):
        member = make_away(world.members[4])
        member.user = user
        member.save(update_fields=["user"])
    first.away_user = user
    return first, second


def test_the_away_expert_reaches_its_own_room_and_report(worlds):
    first, _ = worlds
    client = confined_client(first.away_user, first.lot.pk)
    room = client.get(f"/evaluation/lots/{first.lot.pk}/room/")
    assert room.status_code == 200 and room.context["role"] == "member"
    assert client.get(f"/evaluation/lots/{first.lot.pk}/report/").status_code == 200
    assert client.get("/").url == f"/evaluation/lots/{first.lot.pk}/room/"
    assert "异地评标专家（联合登录）" in room.content.decode()


def test_every_other_page_and_api_is_refused(worlds):
    first, _ = worlds
    client = confined_client(first.away_user, first.lot.pk)
    for path in ["/tenders/", "/evaluation/pool/", "/evaluation/keys/", "/evaluation/drawings/", "/accounts/tokens/",
                 "/accounts/organisation/", "/crossregion/", "/crossregion/away/", "/admin/", f"/tenders/{first.tender.pk}/",
                 f"/evaluation/lots/{first.lot.pk}/clarifications/x/", "/bidding/"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "只能使用本次评标的评标室和评标报告" in response.content.decode(), path
    for path in ["/api/v1/tenders/", f"/api/v1/evaluation/lots/{first.lot.pk}/room/", "/api/v1/evaluation/expert-keys/",
                 "/api/v1/schema/"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.json()["code"] == "federated_confined", path
    assert client.post("/api/v1/evaluation/expert-keys/", {"public_jwk": {}}, content_type="application/json").status_code == 403


def test_another_room_is_refused_even_with_a_seat_there(worlds):
    first, second = worlds
    client = confined_client(first.away_user, first.lot.pk)
    for path in [f"/evaluation/lots/{second.lot.pk}/room/", f"/evaluation/lots/{second.lot.pk}/report/",
                 f"/evaluation/lots/{second.lot.pk}/report.pdf", f"/api/v1/evaluation/lots/{second.lot.pk}/report/signature/"]:
        assert client.get(path).status_code == 403, path
    assert client.post(f"/evaluation/lots/{second.lot.pk}/report/dissent/", {"text": "不同意"}).status_code == 403


def test_a_federated_account_without_its_lot_may_use_nothing(worlds):
    first, _ = worlds
    client = confined_client(first.away_user, None)
    assert client.get(f"/evaluation/lots/{first.lot.pk}/room/").status_code == 403
    assert client.get("/").status_code == 403


def test_static_catalogue_language_clock_and_sign_out_stay_open(worlds):
    first, _ = worlds
    client = confined_client(first.away_user, first.lot.pk)
    assert client.get("/jsi18n/").status_code == 200
    assert client.get("/time/").status_code == 200
    assert client.post("/i18n/setlang/", {"language": "en", "next": f"/evaluation/lots/{first.lot.pk}/room/"}).status_code == 302
    assert client.get("/static/js/evaluation/room.js").status_code in (200, 404)  # served (or not, without collectstatic), never 403
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get(f"/evaluation/lots/{first.lot.pk}/room/").url.startswith("/accounts/login/")


def test_home_users_are_not_confined(worlds):
    first, _ = worlds
    home_expert = first.members[0].user
    assert not FederatedIdentity.objects.filter(user=home_expert).exists()
    client = Client()
    client.force_login(home_expert)
    assert client.get("/evaluation/keys/").status_code == 200
    assert client.get(f"/evaluation/lots/{first.lot.pk}/room/").status_code == 200


def test_once_the_agreement_is_revoked_the_away_expert_may_use_nothing(worlds, agreement):
    first, _ = worlds
    client = confined_client(first.away_user, first.lot.pk)
    assert client.get(f"/evaluation/lots/{first.lot.pk}/room/").status_code == 200
    agreement.partner.agreements.update(state="revoked")
    assert client.get(f"/evaluation/lots/{first.lot.pk}/room/").status_code == 403
    assert client.get(f"/evaluation/lots/{first.lot.pk}/report/").status_code == 403
