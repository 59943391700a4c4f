"""Federated sign-in at the host (POST /crossregion/federated-login/, crossregion/services/
federated_signin.py): a valid token from the partner for an away seat of this host's panel signs the
expert in as a shadow account linked to the seat, with the signing key of the assignment, and sends
it to the room, where it has a home expert's rights. Forged, expired, wrong-audience, replayed,
unknown-issuer, revoked-agreement and unassigned tokens are refused with a 4xx page naming the
code, and nothing changes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from crossregion.confinement import SESSION_LOT_KEY
from crossregion.models import AgreementState, FederatedIdentity, UsedToken
from evaluation.models import ExpertKey, MemberStatus, PanelMember
from tests.evaluation.world import EvaluationWorld, clock  # noqa: F401  (fixture)
from tests.tendering.conftest import _fast_and_isolated  # noqa: F401  (autouse fixture)

from .conftest import OTHER_KEY, PARTNER, signed_agreement
from .federation_helpers import away_expert_id, make_away, signing_key, token

pytestmark = pytest.mark.django_db
LOGIN = "/crossregion/federated-login/"


@pytest.fixture
def world(clock, partner):  # noqa: F811
    signed_agreement(partner)
    w = EvaluationWorld(clock)
    w.seated(experts=5)
    w.partner = partner
    w.key, w.jwk = signing_key()
    w.expert_id = away_expert_id()
    w.away = make_away(w.members[4], expert_id=w.expert_id, jwk=w.jwk)
    return w


def enter(world, tok=None, client=None):
    client = client or Client()
    return client, client.post(LOGIN, {"token": tok if tok is not None else token(sub=world.expert_id, session=world.lot.pk)})


def state():
    return (User.objects.count(), FederatedIdentity.objects.count(), UsedToken.objects.count(), ExpertKey.objects.count(),
            list(PanelMember.objects.order_by("pk").values_list("user_id", flat=True)),
            AuditEvent.objects.exclude(action="federation.sign_in_refused").count())


def test_a_valid_token_signs_the_away_expert_into_the_room(world):
    client, response = enter(world)
    assert response.status_code == 302 and response.url == f"/evaluation/lots/{world.lot.pk}/room/"
    identity = FederatedIdentity.objects.get()
    user = identity.user
    assert (identity.partner, identity.remote_expert_id) == (world.partner, world.expert_id)
    assert user.role == "expert" and not user.has_usable_password()
    member = PanelMember.objects.get(pk=world.away.pk)
    assert member.user == user and member.venue == "away"
    key = ExpertKey.objects.get(user=user)
    assert key.public_jwk == world.jwk and key.revoked_at is None
    assert client.session[SESSION_LOT_KEY] == world.lot.pk
    assert client.session.get_expiry_date() <= world.session.ends_at + timedelta(seconds=1)
    room = client.get(response.url)
    assert room.status_code == 200 and room.context["role"] == "member"
    actions = list(AuditEvent.objects.filter(action__startswith="federation.").order_by("seq").values_list("action", flat=True))
    assert actions == ["federation.identity_create", "federation.member_link", "federation.key_register", "federation.sign_in"]


def test_signing_in_again_reuses_the_shadow_account(world):
    enter(world)
    _client, response = enter(world)  # a fresh token: a new jti
    assert response.status_code == 302
    assert FederatedIdentity.objects.count() == 1
    assert ExpertKey.objects.filter(user=FederatedIdentity.objects.get().user).count() == 1
    assert AuditEvent.objects.filter(action="federation.sign_in").count() == 2
    assert AuditEvent.objects.filter(action="federation.identity_create").count() == 1


def test_the_away_expert_has_a_home_experts_rights_in_the_room(world):
    from tests.evaluation.room_helpers import by

    client, _ = enter(world)
    from evaluation.services import room

    member = PanelMember.objects.get(pk=world.away.pk)
    room.check_in(by=by(member), session=world.session, pledge=True)
    assert PanelMember.objects.get(pk=member.pk).checked_in_at is not None
    report = client.get(f"/evaluation/lots/{world.lot.pk}/report/")
    assert report.status_code == 200 and report.context["member"].pk == member.pk and report.context["key"] is not None


@pytest.mark.parametrize("case, code, status", [
    ("forged", "token_bad_signature", 403),
    ("expired", "token_expired", 403),
    ("wrong_audience", "token_wrong_audience", 403),
    ("unknown_issuer", "token_unknown_issuer", 403),
    ("garbled", "token_malformed", 400),
    ("other_lot", "token_not_assigned", 403),
    ("other_expert", "token_not_assigned", 403),
])
def test_bad_tokens_are_refused_and_change_nothing(world, case, code, status):
    tokens = {
        "forged": lambda: token(sub=world.expert_id, session=world.lot.pk, key=OTHER_KEY),
        "expired": lambda: token(sub=world.expert_id, session=world.lot.pk, issued_at=timezone.now() - timedelta(seconds=301)),
        "wrong_audience": lambda: token(sub=world.expert_id, session=world.lot.pk, aud="440300"),
        "unknown_issuer": lambda: token(sub=world.expert_id, session=world.lot.pk, iss="440300", key=OTHER_KEY),
        "garbled": lambda: "not-a-token",
        "other_lot": lambda: token(sub=world.expert_id, session=world.lot.pk + 1000),
        "other_expert": lambda: token(sub=away_expert_id(), session=world.lot.pk),
    }
    before = state()
    client, response = enter(world, tokens[case]())
    assert response.status_code == status
    assert response.context["code"] == code and code in response.content.decode()
    assert state() == before
    assert "_auth_user_id" not in client.session
    refused = AuditEvent.objects.filter(action="federation.sign_in_refused").get()
    assert json.loads(refused.body)["payload"]["code"] == code


def test_a_replayed_token_is_refused(world):
    tok = token(sub=world.expert_id, session=world.lot.pk)
    _, first = enter(world, tok)
    assert first.status_code == 302
    before = state()
    client, again = enter(world, tok)
    assert again.status_code == 409 and again.context["code"] == "token_replayed"
    assert state() == before and "_auth_user_id" not in client.session


def test_a_token_under_a_revoked_agreement_is_refused(world):
    from crossregion.models import Agreement

    Agreement.objects.filter(partner=world.partner).update(state=AgreementState.REVOKED)
    before = state()
    _, response = enter(world)
    assert response.status_code == 403 and response.context["code"] == "token_no_agreement"
    assert state() == before


def test_a_seat_no_longer_serving_or_filled_by_another_partner_is_refused(world):
    PanelMember.objects.filter(pk=world.away.pk).update(remote_region="440300")
    _, response = enter(world)
    assert response.context["code"] == "token_not_assigned"
    PanelMember.objects.filter(pk=world.away.pk).update(remote_region=PARTNER, status=MemberStatus.RECUSED)
    _, response = enter(world)
    assert response.status_code == 403 and response.context["code"] == "token_not_assigned"
    assert FederatedIdentity.objects.count() == 0


def test_only_a_post_with_a_token(world):
    assert Client().get(LOGIN).status_code == 405
    _, response = enter(world, "")
    assert response.status_code == 400 and response.context["code"] == "token_malformed"


def test_a_sign_in_replaces_whoever_was_signed_in_in_that_browser(world):
    client = Client()
    client.force_login(world.centre)
    client, response = enter(world, client=client)
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == FederatedIdentity.objects.get().user_id
    assert client.get("/tenders/").status_code == 403
    assert settings.SESSION_COOKIE_NAME in client.cookies


def test_the_away_expert_signs_the_report_with_the_assignments_key(clock, partner):  # noqa: F811
    """Through the report page's API, like a home expert: the signing key came with the assignment."""
    from evaluation import report_signing
    from evaluation.services.report import report_draft
    from tests.evaluation.report_world import reporting

    signed_agreement(partner)
    rep = reporting(EvaluationWorld(clock))
    private, jwk = signing_key()
    expert_id = away_expert_id()
    away = make_away(rep.members[4], expert_id=expert_id, jwk=jwk)
    client = Client()
    response = client.post(LOGIN, {"token": token(sub=expert_id, session=rep.session.lot_id)})
    assert response.status_code == 302
    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    page = client.get(f"/evaluation/lots/{rep.session.lot_id}/report/")
    assert page.status_code == 200 and page.context["may_answer"] and page.context["key"].public_jwk == jwk
    api = f"/api/v1/evaluation/lots/{rep.session.lot_id}/report/signature/"
    signed = client.post(api, {"signature": report_signing.sign(private, report.statement_sha256), "version": report.version},
                         content_type="application/json")
    assert signed.status_code == 201, signed.content
    assert [a["response"] for a in signed.json()["answers"] if a["seat"] == away.seat] == ["signed"]


def test_without_a_key_in_the_assignment_the_page_says_so(clock, partner):  # noqa: F811
    from evaluation.services.report import report_draft
    from tests.evaluation.report_world import reporting

    signed_agreement(partner)
    rep = reporting(EvaluationWorld(clock))
    expert_id = away_expert_id()
    make_away(rep.members[4], expert_id=expert_id)
    client = Client()
    assert client.post(LOGIN, {"token": token(sub=expert_id, session=rep.session.lot_id)}).status_code == 302
    assert not ExpertKey.objects.filter(user__federated_identity__remote_expert_id=expert_id).exists()
    report = report_draft(by=rep.by(rep.chair), session=rep.session)
    page = client.get(f"/evaluation/lots/{rep.session.lot_id}/report/").content.decode()
    assert "合作平台的专家指派中没有您的签名公钥" in page and "/evaluation/keys/" not in page
    assert client.post(f"/evaluation/lots/{rep.session.lot_id}/report/dissent/", {"text": "我不同意。"}).status_code == 302
    assert report.dissents.get().text == "我不同意。"
