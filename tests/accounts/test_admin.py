"""The admin site looks things up and changes nothing: every change to users, organisations and
the audit trail goes through a service that writes its audit event (E49)."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from accounts.models import User
from audit.models import AuditEvent
from tests.accounts.conftest import make_org, make_user

pytestmark = pytest.mark.django_db
AUDITED_APPS = ("accounts", "audit")


@pytest.fixture
def superuser():
    return User.objects.create_superuser(username="root", password="Pw-for-tests-2026")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_every_accounts_and_audit_model_is_read_only_even_for_a_superuser(superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    models = [model for model in admin.site._registry if model._meta.app_label in AUDITED_APPS]
    assert User in models and AuditEvent in models
    for model in models:
        model_admin = admin.site._registry[model]
        assert model_admin.has_view_permission(request)
        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request), model
        assert not model_admin.has_delete_permission(request), model


def test_users_can_be_looked_up(admin_client):
    member = make_user("bidder", make_org("bidder"), username="zhang")
    assert "zhang" in admin_client.get(reverse("admin:accounts_user_changelist")).content.decode()
    page = admin_client.get(reverse("admin:accounts_user_change", args=[member.pk]))
    assert page.status_code == 200 and "pbkdf2" not in page.content.decode() and "md5$" not in page.content.decode()


def test_a_superuser_cannot_add_a_user_or_change_a_password_activation_or_privileges(admin_client):
    member = make_user("bidder", make_org("bidder"), username="zhang", admin=False)
    assert admin_client.post(reverse("admin:accounts_user_add"), {"username": "fake", "password1": "x", "password2": "x"}).status_code == 403
    change = {"username": "zhang", "is_active": "", "is_superuser": "on", "is_staff": "on", "is_org_admin": "on"}
    assert admin_client.post(reverse("admin:accounts_user_change", args=[member.pk]), change).status_code == 403
    with pytest.raises(NoReverseMatch):
        reverse("admin:accounts_user_password_change", args=[member.pk])
    assert admin_client.post(f"/admin/accounts/user/{member.pk}/password/", {"password1": "New-pass-2026", "password2": "New-pass-2026"}).status_code in (302, 403, 404)
    member.refresh_from_db()
    assert member.is_active and not member.is_superuser and not member.is_staff and not member.is_org_admin
    assert member.check_password("Pw-for-tests-2026")
    assert not User.objects.filter(username="fake").exists()


def test_groups_are_not_offered_for_editing():
    assert Group not in admin.site._registry
