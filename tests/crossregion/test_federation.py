"""Federation tokens at the host: crossregion.services.federation.verify_token, the helper the
federated sign-in uses. Forged, expired, wrong-audience, unknown-issuer and replayed tokens are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crossregion import protocol
from crossregion.models import AgreementState, UsedToken
from crossregion.services import federation

from .conftest import OTHER_KEY, PARTNER, ZS_KEY, signed_agreement

pytestmark = pytest.mark.django_db


def token(key=ZS_KEY, **changes):
    fields = dict(iss=PARTNER, aud="441900", sub="EXP-7f3a9c", session=17, issued_at=timezone.now())
    fields.update(changes)
    return protocol.sign_token(protocol.build_token_payload(**fields), key)


def refused(code, tok, **kwargs):
    with pytest.raises(protocol.TokenError) as error:
        federation.verify_token(tok, **kwargs)
    assert error.value.code == code
    assert UsedToken.objects.count() == 0


def test_a_valid_token_names_the_partner_and_the_expert_and_is_recorded(agreement):
    partner, payload = federation.verify_token(token())
    assert partner == agreement.partner and payload["sub"] == "EXP-7f3a9c" and payload["session"] == 17
    used = UsedToken.objects.get()
    assert (used.jti, used.subject, used.session) == (payload["jti"], "EXP-7f3a9c", "17")


def test_a_replayed_token_is_refused(agreement):
    tok = token()
    federation.verify_token(tok)
    with pytest.raises(protocol.TokenError) as error:
        federation.verify_token(tok)
    assert error.value.code == "token_replayed"
    assert UsedToken.objects.count() == 1


def test_a_forged_token_is_refused(agreement):
    refused("token_bad_signature", token(key=OTHER_KEY))


def test_an_expired_token_is_refused(agreement):
    refused("token_expired", token(issued_at=timezone.now() - timedelta(seconds=301)))


def test_a_token_for_another_host_is_refused(agreement):
    refused("token_wrong_audience", token(aud="440300"))


def test_a_token_from_a_platform_that_is_not_a_partner_is_refused(agreement):
    refused("token_unknown_issuer", token(iss="440300", key=OTHER_KEY))


def test_a_token_under_a_revoked_agreement_or_without_federation_in_scope_is_refused(partner):
    signed_agreement(partner, state=AgreementState.REVOKED)
    refused("token_no_agreement", token())
    signed_agreement(partner, scope=("booking",))
    refused("token_no_agreement", token())


def test_a_garbled_token_is_refused(agreement):
    refused("token_malformed", "garbage")


def test_issue_token_at_home_verifies_at_the_host(agreement):
    from audit import platform_key

    tok = federation.issue_token(partner=agreement.partner, subject="EXP-1", session="LOT-3")
    payload = protocol.verify_token(tok, public_raw=platform_key.public_key_bytes(), audience=PARTNER, now=timezone.now())
    assert (payload["iss"], payload["aud"], payload["sub"], payload["session"]) == ("441900", PARTNER, "EXP-1", "LOT-3")
    assert payload["exp"] - payload["iat"] == 300
