"""The back office keeps the secret too: before the opening a superuser's admin lists no
registrations, downloads, clarification acknowledgements or objections of a tender; after it does."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tendering.models import LotState, Tender, TenderState
from tests import factories
from tests.factories import person

pytestmark = pytest.mark.django_db


def test_registrations_appear_in_the_admin_only_after_the_opening():
    tender = factories.make_tender(person("tenderer"), state=TenderState.PUBLISHED)
    bidder = factories.register_bidder(tender)
    operator = User.objects.create_superuser("operator", password="x" * 20)
    client = Client()
    client.force_login(operator)
    url = reverse("admin:tendering_bidderregistration_changelist")
    assert bidder.organisation.name not in client.get(url).content.decode()
    tender.lots.update(state=LotState.OPENING)
    assert bidder.organisation.name in client.get(url).content.decode()
    assert Tender.objects.count() == 1


def test_the_audit_admin_hides_what_bidders_did_until_the_opening():
    tender = factories.make_tender(person("tenderer"), state=TenderState.PUBLISHED)
    bidder = factories.register_bidder(tender)
    operator = User.objects.create_superuser("operator2", password="x" * 20)
    client = Client()
    client.force_login(operator)
    url = reverse("admin:audit_auditevent_changelist") + "?action=tender.register"
    assert bidder.username not in client.get(url).content.decode()
    assert "tender.publish" in client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    tender.lots.update(state=LotState.OPENING)
    assert bidder.username in client.get(url).content.decode()
