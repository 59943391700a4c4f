"""The in-browser sealer's page (/bidding/lots/<id>/seal/): only a verified bidder that obtained
the tender documents gets it, while the lot takes bids; everyone else is told why not. The page
carries what the browser seals with: the binding, the bidder's credit code and the fingerprints of
its keys in force. (The sealing itself is tested in a browser: tests/browser/test_seal_page.py.)"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services as accounts_services
from tendering import services as tendering_services
from tests import factories
from tests.factories import actor, person
from tests.tendering.conftest import START, Clock

from .test_keys_world import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(START)
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture
def tender(clock):
    return factories.make_tender(person("tenderer"), state="published", lots=2)


@pytest.fixture
def bidder(tender):
    return factories.register_bidder(tender)


def url(lot) -> str:
    return reverse("bidding:seal", args=[lot.pk])


def get(client, user, lot):
    if user is not None:
        client.force_login(user)
    return client.get(url(lot))


def config_of(response) -> dict:
    return json.loads(response.content.decode().split('<script id="seal-config" type="application/json">')[1].split("</script>")[0])


def test_anonymous_visitors_are_sent_to_sign_in(client, tender):
    response = get(client, None, tender.lots.first())
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", ["tenderer", "agency", "centre", "regulator", "expert"])
def test_other_roles_are_refused(client, tender, role):
    if role == "centre":
        user = factories.centre_reviewer()
    elif role == "expert":
        user = accounts_services.user_create(
            by=actor(factories.centre_reviewer()), organisation=None, username="expert-seal", password=factories.PASSWORD, role="expert",
        )
    else:
        user = person(role)
    response = get(client, user, tender.lots.first())
    assert response.status_code == 403
    assert 'id="seal-config"' not in response.content.decode()


def test_the_tenderers_own_staff_are_refused_too(client, tender):
    owner = factories.admin_of(tender.tenderer)
    assert get(client, owner, tender.lots.first()).status_code == 403


def test_a_bidder_that_did_not_obtain_the_documents_is_told_to_obtain_them(client, tender):
    response = get(client, person("bidder"), tender.lots.first())
    page = response.content.decode()
    assert response.status_code == 403
    assert "尚未获取本项目的招标文件" in page and reverse("tendering:detail", args=[tender.pk]) in page
    assert 'id="seal-config"' not in page


def test_a_suspended_bidder_is_refused_although_it_registered(client, tender, bidder):
    accounts_services.organisation_suspend(by=actor(factories.centre_reviewer()), organisation=bidder.organisation, reason="涉嫌违规")
    bidder.refresh_from_db()
    response = get(client, bidder, tender.lots.first())
    assert response.status_code == 403 and "暂停" in response.content.decode()


def test_after_the_deadline_the_page_refuses_and_says_so(client, clock, tender, bidder):
    clock.set(tender.bid_deadline)
    response = get(client, bidder, tender.lots.first())
    page = response.content.decode()
    assert response.status_code == 403
    assert "已过" in page and timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M") in page
    assert 'id="seal-config"' not in page
    clock.set(tender.bid_deadline - timedelta(seconds=1))
    assert get(client, bidder, tender.lots.first()).status_code == 200


def test_a_suspended_lot_does_not_take_bids(client, tender, bidder):
    lot = tender.lots.first()
    tendering_services.lot_suspend(by=actor(factories.admin_of(tender.tenderer)), lot=lot, reason="处理异议")
    response = get(client, bidder, lot)
    assert response.status_code == 403 and "不接收投标文件" in response.content.decode()


def test_an_unknown_lot_or_an_unpublished_tender_is_not_found(client, bidder):
    client.force_login(bidder)
    assert client.get(reverse("bidding:seal", args=[999999])).status_code == 404
    draft = factories.make_tender(person("tenderer"))
    assert client.get(url(draft.lots.first())).status_code == 404


def test_the_registered_bidder_gets_the_page_with_its_keys_in_force(client, tender, bidder):
    old_decryption, old_signing = register(bidder)
    decryption, signing = register(bidder)  # a rotation: only the new pair is in force
    lot = tender.lots.order_by("number").last()
    response = get(client, bidder, lot)
    page = response.content.decode()
    assert response.status_code == 200
    config = config_of(response)
    assert config["active_fingerprints"] == {"decryption": decryption.fingerprint, "signing": signing.fingerprint}
    assert config["binding"] == {"tender": str(tender.pk), "lot": str(lot.pk), "bidder": str(bidder.organisation_id)}
    assert config["bidder_credit_code"] == bidder.organisation.credit_code and config["lot"] == lot.pk
    assert config["api"] == "/api/v1/" and config["max_bid_bytes"] > 0
    assert decryption.fingerprint_blocks in page and signing.fingerprint_blocks in page
    assert old_decryption.fingerprint not in page and old_signing.fingerprint not in page
    assert tender.code in page and lot.name in page and "data-deadline" in page
    assert 'type="file" id="documents" multiple' in page and 'id="key-file"' in page and 'type="password"' in page
    assert "js/sealbid/seal_page.js" in page
    assert f"--tender {tender.pk} --lot {lot.pk} --bidder {bidder.organisation_id}" in page  # for the bid tool


def test_a_bidder_without_keys_is_warned_on_the_page(client, tender, bidder):
    response = get(client, bidder, tender.lots.first())
    assert response.status_code == 200
    assert config_of(response)["active_fingerprints"] == {}
    assert "尚未登记有效的投标密钥" in response.content.decode() and reverse("bidding:keys") in response.content.decode()


def test_the_announcement_links_a_registered_bidder_to_each_lot_taking_bids(client, tender, bidder):
    client.force_login(bidder)
    page = client.get(reverse("tendering:detail", args=[tender.pk])).content.decode()
    for lot in tender.lots.all():
        assert url(lot) in page
    client.force_login(person("bidder"))  # not registered: no link
    assert url(tender.lots.first()) not in client.get(reverse("tendering:detail", args=[tender.pk])).content.decode()


def test_the_page_in_english_has_no_untranslated_text(client, clock):
    """Demo data in ASCII: any CJK left on the English page is platform text that escaped
    translation, but for the example of capital numerals, which are Chinese by nature."""
    from tests.test_i18n import ascii_person, cjk_outside_language_switch, in_english

    owner = ascii_person("tenderer", "Songhu Investment Co")
    project = tendering_services.project_create(by=actor(owner), tenderer=owner.organisation, code="P-EN-SEAL", name="Kejiao Road")
    tender = factories.make_tender(owner, state="published", project=project, title="Kejiao Road works",
                                   lots_data=[{"name": "Roads", "description": "K0+000", "maximum_price_fen": 123456789}])
    bidder = factories.register_bidder(tender, ascii_person("bidder", "Huajian Construction Co"))
    register(bidder)
    client.force_login(bidder)
    in_english(client)
    lot = tender.lots.get()
    page = client.get(url(lot)).content.decode()
    for words in ["Seal and submit a bid", "Lot 1: Roads", "Opening summary", "Bid price (capital numerals)", "Unlock the key file",
                  "Pack, seal and upload", "Bid deadline", "1,234,567.89"]:
        assert words in page, words
    assert [line for line in cjk_outside_language_switch(page) if "placeholder=" not in line] == []
    messages = config_of(client.get(url(lot)))["messages"]
    assert messages["capital_ok"] == "The price in capital numerals matches the figures."
    refused = client.get(url(factories.make_tender(owner, state="published").lots.first())).content.decode()
    assert "has not obtained the tender documents" in refused
    client.force_login(factories.admin_of(tender.tenderer))
    announcement = client.get(reverse("tendering:detail", args=[tender.pk])).content.decode()
    assert "Seal and submit a bid for lot" not in announcement
    client.force_login(bidder)
    assert "Seal and submit a bid for lot 1" in client.get(reverse("tendering:detail", args=[tender.pk])).content.decode()
