"""Sign-ins on the sign-in page are audit events (E49): who, from which IP, and failed attempts too."""

import json

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.selectors import verify_chain
from tests.accounts.conftest import make_org, make_user

pytestmark = pytest.mark.django_db
PASSWORD = "Pw-for-tests-2026"


@pytest.fixture
def zhang():
    return make_user("bidder", make_org("bidder"), username="zhang")


def sign_in(client, username, password, **headers):
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, **headers)


def payload(event):
    return json.loads(event.body)["payload"]


def test_a_successful_sign_in_is_recorded_with_the_user_and_ip(client, zhang):
    assert sign_in(client, "zhang", PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 302
    event = AuditEvent.objects.get(action__startswith="user.login")
    assert event.action == "user.login" and event.actor_id == zhang.pk and event.role == "bidder"
    assert event.ip == "203.0.113.7" and event.object_id == str(zhang.pk) and payload(event) == {"username": "zhang"}
    assert verify_chain().ok


@pytest.mark.parametrize(("username", "password"), [("zhang", "wrong"), ("nobody", PASSWORD)])
def test_a_failed_sign_in_is_recorded_with_the_name_typed_and_no_user(client, zhang, username, password):
    response = sign_in(client, username, password, REMOTE_ADDR="203.0.113.8")
    assert response.status_code == 200 and response.context["form"].errors
    event = AuditEvent.objects.get(action__startswith="user.login")
    assert event.action == "user.login_failed" and event.actor_id is None and event.ip == "203.0.113.8"
    assert payload(event) == {"username": username}
    assert PASSWORD not in event.body and "wrong" not in event.body


def test_a_disabled_user_signing_in_is_a_failed_sign_in(client, zhang):
    zhang.is_active = False
    zhang.save()
    sign_in(client, "zhang", PASSWORD)
    assert list(AuditEvent.objects.filter(action__startswith="user.login").values_list("action", flat=True)) == ["user.login_failed"]


def test_a_spoofed_forwarded_header_does_not_change_the_recorded_ip(client, zhang, settings):
    settings.PLATFORM_TRUSTED_PROXIES = ["10.0.0.5"]
    sign_in(client, "zhang", "wrong", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    sign_in(client, "zhang", PASSWORD, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.20")
    ips = dict(AuditEvent.objects.filter(action__startswith="user.login").values_list("action", "ip"))
    assert ips == {"user.login_failed": "203.0.113.9", "user.login": "198.51.100.20"}


def test_the_admin_sign_in_page_is_recorded_too(client, zhang):
    zhang.is_staff = True
    zhang.save()
    client.post(reverse("admin:login"), {"username": "zhang", "password": "wrong"})
    client.post(reverse("admin:login"), {"username": "zhang", "password": PASSWORD})
    assert list(AuditEvent.objects.filter(action__startswith="user.login").order_by("seq").values_list("action", flat=True)) == [
        "user.login_failed", "user.login",
    ]


def test_logins_that_are_not_sign_ins_are_not_recorded(client, zhang):
    client.force_login(zhang)
    client.logout()
    assert client.login(username="zhang", password=PASSWORD)
    assert not client.login(username="zhang", password="wrong")
    assert not AuditEvent.objects.filter(action__startswith="user.login").exists()


def test_the_login_after_self_registration_is_recorded_once_as_the_registration(client):
    response = client.post(reverse("accounts:register"), {
        "kind": "bidder", "name": "东莞市恒达建设有限公司", "credit_code": "91110108551385082q", "legal_representative": "陈六",
        "address": "东莞市东城街道", "contact_phone": "0769-22111111", "qualifications": "", "username": "hengda",
        "display_name": "陈六", "email": "", "password1": "Strong-pass-2026", "password2": "Strong-pass-2026",
    })
    assert response.status_code == 302
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["organisation.register"]
