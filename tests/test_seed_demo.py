"""`manage.py seed_demo`: the demo world, built through the services, idempotent, sandbox only."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts import credit_code
from accounts.models import Organisation, User
from audit.models import AuditEvent
from audit.selectors import verify_chain
from tendering.management.commands.seed_demo import DEMO_PASSWORD
from tendering.models import Tender


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _world():
    return (
        sorted(Organisation.objects.values_list("name", "status")),
        sorted(User.objects.values_list("username", "role")),
        list(Tender.objects.values_list("code", "state", "bid_deadline")),
        AuditEvent.objects.count(),
    )


@pytest.mark.django_db
def test_refuses_outside_sandbox_mode_and_creates_nothing(settings):
    settings.PLATFORM_SANDBOX = False
    with pytest.raises(CommandError, match="PLATFORM_SANDBOX=1"):
        _seed()
    assert not Organisation.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_builds_the_demo_world_through_the_audited_services(sandbox):
    output = _seed()

    organisations = {org.kind: org for org in Organisation.objects.all()}
    assert organisations["centre"].name == "东莞市公共资源交易中心"
    assert Organisation.objects.filter(kind="bidder").count() == 4
    assert {org.status for org in Organisation.objects.all()} == {"approved"}
    assert all(credit_code.is_valid(org.credit_code) for org in Organisation.objects.all())
    assert User.objects.filter(role="expert", organisation=None).count() == 7
    for role in ("centre", "regulator", "tenderer", "agency"):
        assert User.objects.filter(role=role).count() == 1

    tender = Tender.objects.get()
    assert tender.state == "published" and tender.accelerator > 1
    assert set(tender.lots.values_list("state", flat=True)) == {"published"}
    # The statutory 20 days, accelerated, are minutes: a demo can reach the deadline today.
    assert timezone.now() < tender.bid_deadline < timezone.now() + timedelta(hours=2)
    assert tender.documents.exists()

    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"organisation.register", "organisation.approve", "user.create", "tender.create", "tender.approve", "tender.publish"} <= actions
    assert verify_chain().ok

    assert "/api/v1/docs/" in output and "/admin/" in output and "/tenders/" in output
    for username in ("centre", "tenderer", "agency", "bidder1", "bidder4", "regulator", "expert7"):
        assert username in output
    assert DEMO_PASSWORD in output
    assert User.objects.get(username="bidder1").check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_running_twice_changes_nothing_and_prints_the_same_logins(sandbox):
    first = _seed()
    world = _world()

    second = _seed()

    assert _world() == world
    assert second == first
    assert _seed("--show") == first


@pytest.mark.django_db
def test_show_never_writes(sandbox):
    output = _seed("--show")
    assert "seed_demo" in output  # tells the reader how to create the demo world
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_demo_tender_is_public_through_the_api(sandbox, client):
    _seed()
    listed = client.get("/api/v1/tenders/").json()["results"]
    assert [tender["code"] for tender in listed] == [Tender.objects.get().code]
