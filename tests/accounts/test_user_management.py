"""Who may add, enable and disable users. Nobody may add a user to another organisation: whoever
could would then sign in as that organisation (a bidder, a tenderer) and act in its name."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts import services
from accounts.models import User
from accounts.permissions import can
from audit.models import AuditEvent
from tests.accounts.conftest import actor, make_org, make_user

pytestmark = pytest.mark.django_db
PASSWORD = "Strong-pass-2026"


def create(by, organisation, username="newcomer", role=None):
    return services.user_create(
        by=actor(by), organisation=organisation, username=username, password=PASSWORD,
        role=role or (organisation.kind if organisation else "expert"),
    )


@pytest.mark.parametrize("kind", ["bidder", "tenderer", "agency", "regulator"])
def test_centre_staff_cannot_add_a_user_to_another_organisation(centre_user, kind):
    organisation = make_org(kind)
    with pytest.raises(PermissionDenied):
        create(centre_user, organisation)
    assert not User.objects.filter(username="newcomer").exists()
    assert not AuditEvent.objects.filter(action="user.create").exists()


def test_centre_staff_cannot_impersonate_a_bidder_through_the_users_page(client, centre_user):
    bidder = make_org("bidder")
    client.force_login(centre_user)
    page = client.get(reverse("accounts:organisation_users_of", args=[bidder.pk]))
    assert page.status_code == 200 and page.context["form"] is None  # centre staff still see who they are
    response = client.post(
        reverse("accounts:organisation_users_of", args=[bidder.pk]), {"username": "fake-bidder", "password1": PASSWORD}
    )
    assert response.status_code == 403
    assert not User.objects.filter(username="fake-bidder").exists()
    assert not client.login(username="fake-bidder", password=PASSWORD)


def test_centre_staff_cannot_disable_another_organisations_user(centre_user):
    member = make_user("bidder", make_org("bidder"), admin=False)
    with pytest.raises(PermissionDenied):
        services.user_set_active(by=actor(centre_user), user=member, active=False)
    assert User.objects.get(pk=member.pk).is_active


def test_the_centre_administrator_manages_the_centres_own_users(centre_user):
    colleague = create(centre_user, centre_user.organisation, username="reviewer2")
    assert colleague.organisation == centre_user.organisation and colleague.role == "centre"
    services.user_set_active(by=actor(centre_user), user=colleague, active=False)
    assert not User.objects.get(pk=colleague.pk).is_active


def test_centre_staff_create_and_disable_experts(centre_user):
    reviewer = make_user("centre", centre_user.organisation, admin=False)
    expert = create(reviewer, None, username="expert-wang")
    assert expert.role == "expert" and expert.organisation is None
    services.user_set_active(by=actor(reviewer), user=expert, active=False)
    assert not User.objects.get(pk=expert.pk).is_active


@pytest.mark.parametrize("status", ["pending", "suspended"])
def test_staff_of_an_unverified_or_suspended_centre_create_no_experts(status):
    staff = make_user("centre", make_org("centre", status=status))
    with pytest.raises(PermissionDenied):
        create(staff, None)
    assert not User.objects.filter(username="newcomer").exists()


@pytest.mark.parametrize("target", ["bidder", "centre", "expert"])
def test_regulators_manage_no_one_elses_users(users_by_role, target):
    regulator = users_by_role["regulator"]
    organisation = None if target == "expert" else make_org(target)
    with pytest.raises(PermissionDenied):
        create(regulator, organisation)
    assert not User.objects.filter(username="newcomer").exists()


@pytest.mark.parametrize("role", ["bidder", "tenderer", "agency", "expert"])
def test_no_other_role_creates_experts(users_by_role, role):
    assert not can(users_by_role[role], "accounts.manage_users", None)


def test_an_organisations_own_administrator_manages_its_users_but_not_another_organisations(users_by_role):
    admin = users_by_role["bidder"]
    colleague = create(admin, admin.organisation, username="colleague")
    assert colleague.organisation == admin.organisation
    with pytest.raises(PermissionDenied):
        create(admin, make_org("bidder"), username="stranger")
    assert not User.objects.filter(username="stranger").exists()


@pytest.mark.parametrize(("status", "allowed"), [("approved", True), ("pending", False), ("suspended", False)])
def test_regulators_read_the_bidder_register_only_while_their_organisation_acts(status, allowed):
    regulator = make_user("regulator", make_org("regulator", status=status))
    assert can(regulator, "accounts.list_bidder_register") is allowed
