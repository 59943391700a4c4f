"""Centre staff pages: partners, adding a partner by its fingerprint, agreements; regulators read only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crossregion import protocol
from crossregion.models import Agreement, AgreementState, OutboundMessage, Partner
from crossregion.services import agreements as services
from tests.factories import PASSWORD

from .conftest import ZS_RAW

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_centre_staff_add_a_partner_after_seeing_its_fingerprint(client, centre, monkeypatch):
    meta = protocol.parse_metadata(protocol.build_metadata(region_code="442000", region_name="中山", base_url="http://127.0.0.1:8001", public_raw=ZS_RAW))
    fetched = []
    monkeypatch.setattr(services, "fetch_metadata", lambda url: fetched.append(url) or meta)
    login(client, centre)
    page = client.post(reverse("crossregion:partner_add"), {"step": "fetch", "base_url": "http://127.0.0.1:8001"})
    assert page.status_code == 200 and protocol.fingerprint(ZS_RAW) in page.content.decode()
    assert not Partner.objects.exists()
    done = client.post(reverse("crossregion:partner_add"), {"step": "confirm", "base_url": "http://127.0.0.1:8001", "key_id": meta.key_id})
    partner = Partner.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("crossregion:partner_detail", args=[partner.pk])
    assert fetched == ["http://127.0.0.1:8001", "http://127.0.0.1:8001"]  # fetched again at confirmation


def test_a_key_changed_between_fetch_and_confirm_is_refused(client, centre, monkeypatch):
    meta = protocol.parse_metadata(protocol.build_metadata(region_code="442000", region_name="中山", base_url="http://x", public_raw=ZS_RAW))
    monkeypatch.setattr(services, "fetch_metadata", lambda url: meta)
    login(client, centre)
    page = client.post(reverse("crossregion:partner_add"), {"step": "confirm", "base_url": "http://127.0.0.1:8001", "key_id": "0" * 16}, follow=True)
    assert "密钥已变化" in page.content.decode() and not Partner.objects.exists()


def test_draft_propose_and_see_both_signatures(client, centre, partner):
    login(client, centre)
    response = client.post(reverse("crossregion:agreement_new", args=[partner.pk]), {
        "scope": ["booking", "federation"], "valid_from": "2026-01-01", "valid_until": "2099-01-01", "text": "协议正文",
    })
    agreement = Agreement.objects.get()
    assert response.status_code == 302 and agreement.state == AgreementState.DRAFT and agreement.scope == ["booking", "federation"]
    client.post(reverse("crossregion:agreement_propose", args=[agreement.uuid]))
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.PROPOSED and OutboundMessage.objects.filter(type="agreement.propose").exists()
    page = client.get(reverse("crossregion:agreement_detail", args=[agreement.uuid])).content.decode()
    assert agreement.own_signature in page and "协议正文" in page
    detail = client.get(reverse("crossregion:partner_detail", args=[partner.pk])).content.decode()
    assert "agreement.propose" in detail and str(agreement.uuid)[:8] in detail


def test_the_agreement_page_shows_both_signatures_and_validity(client, centre, agreement):
    login(client, centre)
    page = client.get(reverse("crossregion:agreement_detail", args=[agreement.uuid])).content.decode()
    assert agreement.own_signature in page and agreement.partner_signature in page and "均已验证" in page
    listing = client.get(reverse("crossregion:partners")).content.decode()
    assert "中山" in listing and "有效" in listing


def test_regulators_read_but_change_nothing(client, regulator, agreement):
    login(client, regulator)
    assert client.get(reverse("crossregion:partners")).status_code == 200
    page = client.get(reverse("crossregion:agreement_detail", args=[agreement.uuid]))
    assert page.status_code == 200 and "撤销协议" not in page.content.decode()
    assert client.post(reverse("crossregion:agreement_revoke", args=[agreement.uuid]), {"reason": "x"}).status_code == 403
    assert client.get(reverse("crossregion:partner_add")).status_code == 403
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.ACTIVE


def test_other_users_are_kept_out(client, agreement):
    from tests import factories

    login(client, factories.person("bidder"))
    assert client.get(reverse("crossregion:partners")).status_code == 403
    assert client.get(reverse("crossregion:agreement_detail", args=[agreement.uuid])).status_code == 403
