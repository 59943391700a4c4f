"""The accounts pages: who gets which page, and the main flows through the forms."""

import pytest
from django.urls import reverse

from accounts.models import ApiToken, Organisation, OrganisationChange, OrganisationStatus, User
from audit.models import AuditEvent
from tests.accounts.conftest import make_org, make_user

pytestmark = pytest.mark.django_db
ROLES = ["anonymous", "bidder", "tenderer", "agency", "centre", "regulator", "expert"]
ORG_ROLES = {"bidder", "tenderer", "agency", "centre", "regulator"}


def client_for(client, users_by_role, role):
    if role != "anonymous":
        client.force_login(users_by_role[role])
    return client


def expected(role, allowed):
    if role == "anonymous":
        return 302  # to the sign-in page
    return 200 if role in allowed else 403


PAGES = {
    # page: (url name, roles that get 200; the others signed in get 403)
    "my_organisation": ("accounts:my_organisation", ORG_ROLES),
    "organisation_users": ("accounts:organisation_users", ORG_ROLES),
    "tokens": ("accounts:tokens", ORG_ROLES | {"expert"}),
    "review_queue": ("accounts:review_queue", {"centre"}),
    "organisation_list": ("accounts:organisation_list", {"centre", "regulator"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_permission_matrix(client, users_by_role, role, page):
    url_name, allowed = PAGES[page]
    response = client_for(client, users_by_role, role).get(reverse(url_name))
    assert response.status_code == expected(role, allowed)
    if role == "anonymous":
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", ROLES)
def test_another_organisations_page_and_users_only_for_centre_and_regulator(client, users_by_role, role):
    other = make_org("bidder", name="别家单位")
    client = client_for(client, users_by_role, role)
    for name in ("accounts:organisation_detail", "accounts:organisation_users_of"):
        assert client.get(reverse(name, args=[other.pk])).status_code == expected(role, {"centre", "regulator"})


@pytest.mark.parametrize("role", ROLES)
def test_sign_in_and_registration_are_for_visitors(client, users_by_role, role):
    client = client_for(client, users_by_role, role)
    for name in ("accounts:login", "accounts:register"):
        assert client.get(reverse(name)).status_code == (200 if role == "anonymous" else 302)


@pytest.mark.parametrize("role", ROLES)
def test_only_centre_staff_approve_through_the_page(client, users_by_role, role):
    organisation = make_org("bidder", status="pending")
    response = client_for(client, users_by_role, role).post(reverse("accounts:organisation_approve", args=[organisation.pk]))
    organisation.refresh_from_db()
    if role == "centre":
        assert response.status_code == 302 and organisation.status == OrganisationStatus.APPROVED
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert organisation.status == OrganisationStatus.PENDING


def test_sign_in_and_out(client):
    make_user("bidder", make_org("bidder"), username="zhang")
    response = client.post(reverse("accounts:login"), {"username": "zhang", "password": "Pw-for-tests-2026"})
    assert response.status_code == 302
    assert client.get(reverse("accounts:my_organisation")).status_code == 200
    bad = client.post(reverse("accounts:logout"))
    assert bad.status_code == 302
    assert client.get(reverse("accounts:my_organisation")).status_code == 302


def test_wrong_password_shows_the_form_again(client):
    make_user("bidder", make_org("bidder"), username="zhang")
    response = client.post(reverse("accounts:login"), {"username": "zhang", "password": "nope"})
    assert response.status_code == 200 and response.context["form"].errors


REGISTRATION = {
    "kind": "bidder", "name": "东莞市恒达建设有限公司", "credit_code": "91110108551385082q", "legal_representative": "陈六",
    "address": "东莞市东城街道", "contact_phone": "0769-22111111", "qualifications": "", "username": "hengda",
    "display_name": "陈六", "email": "", "password1": "Strong-pass-2026", "password2": "Strong-pass-2026",
}


def test_self_registration_then_submit_then_centre_rejects_then_resubmit_and_approve(client, centre_user):
    response = client.post(reverse("accounts:register"), REGISTRATION)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:my_organisation")
    organisation = Organisation.objects.get(name="东莞市恒达建设有限公司")
    assert organisation.credit_code == "91110108551385082Q" and organisation.status == OrganisationStatus.DRAFT
    page = client.get(reverse("accounts:my_organisation"))
    assert "提交审核" in page.content.decode()

    assert client.post(reverse("accounts:organisation_submit")).status_code == 302
    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.PENDING
    # Locked while pending: the edit form is gone and a forged POST changes nothing.
    assert client.get(reverse("accounts:my_organisation")).context["edit_form"] is None
    client.post(reverse("accounts:organisation_edit"), REGISTRATION | {"name": "改名"})
    assert Organisation.objects.get(pk=organisation.pk).name == "东莞市恒达建设有限公司"

    staff = client.__class__()
    staff.force_login(centre_user)
    queue = staff.get(reverse("accounts:review_queue"))
    assert "东莞市恒达建设有限公司" in queue.content.decode()
    staff.post(reverse("accounts:organisation_reject", args=[organisation.pk]), {"reason": ""})
    assert Organisation.objects.get(pk=organisation.pk).status == OrganisationStatus.PENDING
    staff.post(reverse("accounts:organisation_reject", args=[organisation.pk]), {"reason": "法定代表人与执照不符"})
    page = client.get(reverse("accounts:my_organisation")).content.decode()
    assert "法定代表人与执照不符" in page

    client.post(reverse("accounts:organisation_edit"), REGISTRATION | {"legal_representative": "陈七"})
    client.post(reverse("accounts:organisation_submit"))
    staff.post(reverse("accounts:organisation_approve", args=[organisation.pk]))
    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.APPROVED and organisation.legal_representative == "陈七"


def test_registration_with_a_bad_credit_code_shows_why_next_to_the_field(client):
    response = client.post(reverse("accounts:register"), REGISTRATION | {"credit_code": "91110108551385082A"})
    assert response.status_code == 200
    assert "校验码" in response.context["form"].errors["credit_code"][0]
    assert not Organisation.objects.exists() and not User.objects.exists()


def test_registration_with_mismatched_passwords_creates_nothing(client):
    response = client.post(reverse("accounts:register"), REGISTRATION | {"password2": "Other-pass-2026"})
    assert response.status_code == 200 and "password2" in response.context["form"].errors
    assert not Organisation.objects.exists()


def test_registration_form_offers_no_centre_or_regulator(client):
    response = client.post(reverse("accounts:register"), REGISTRATION | {"kind": "centre"})
    assert "kind" in response.context["form"].errors
    assert not Organisation.objects.exists()


def test_change_request_and_centre_approval_through_the_pages(client, centre_user):
    organisation = make_org("tenderer", name="东莞市住建局")
    client.force_login(make_user("tenderer", organisation))
    data = {"name": "东莞市住房和城乡建设局", "credit_code": organisation.credit_code, "legal_representative": "张三",
            "address": organisation.address, "contact_phone": organisation.contact_phone, "qualifications": ""}
    assert client.post(reverse("accounts:organisation_change"), data).status_code == 302
    page = client.get(reverse("accounts:my_organisation"))
    assert page.context["pending_change"] is not None and page.context["change_form"] is None
    assert Organisation.objects.get(pk=organisation.pk).name == "东莞市住建局"

    staff = client.__class__()
    staff.force_login(centre_user)
    change = OrganisationChange.objects.get()
    assert "东莞市住房和城乡建设局" in staff.get(reverse("accounts:organisation_detail", args=[organisation.pk])).content.decode()
    staff.post(reverse("accounts:change_approve", args=[change.pk]))
    assert Organisation.objects.get(pk=organisation.pk).name == "东莞市住房和城乡建设局"


def test_suspend_and_restore_through_the_pages(client, centre_user):
    organisation = make_org("bidder")
    client.force_login(centre_user)
    client.post(reverse("accounts:organisation_suspend", args=[organisation.pk]), {"reason": ""})
    assert Organisation.objects.get(pk=organisation.pk).status == OrganisationStatus.APPROVED
    client.post(reverse("accounts:organisation_suspend", args=[organisation.pk]), {"reason": "违规"})
    assert Organisation.objects.get(pk=organisation.pk).status == OrganisationStatus.SUSPENDED
    client.post(reverse("accounts:organisation_restore", args=[organisation.pk]), {"reason": "整改完成"})
    assert Organisation.objects.get(pk=organisation.pk).status == OrganisationStatus.APPROVED


def test_org_administrator_adds_a_user_with_the_organisations_role(client):
    organisation = make_org("agency")
    client.force_login(make_user("agency", organisation))
    response = client.post(reverse("accounts:organisation_users"), {"username": "agent2", "display_name": "李", "password1": "Strong-pass-2026"})
    assert response.status_code == 302
    added = User.objects.get(username="agent2")
    assert added.role == "agency" and added.organisation == organisation and not added.is_org_admin


def test_ordinary_member_sees_users_but_cannot_add(client):
    organisation = make_org("agency")
    client.force_login(make_user("agency", organisation, admin=False))
    assert client.get(reverse("accounts:organisation_users")).context["form"] is None
    response = client.post(reverse("accounts:organisation_users"), {"username": "agent2", "password1": "Strong-pass-2026"})
    assert response.status_code == 403 and not User.objects.filter(username="agent2").exists()


def test_duplicate_username_shows_next_to_the_field(client):
    organisation = make_org("agency")
    admin = make_user("agency", organisation)
    client.force_login(admin)
    response = client.post(reverse("accounts:organisation_users"), {"username": admin.username, "password1": "Strong-pass-2026"})
    assert response.status_code == 200 and response.context["form"].errors["username"]


def test_administrator_disables_a_colleague_whose_tokens_then_stop(client):
    organisation = make_org("bidder")
    admin, colleague = make_user("bidder", organisation), make_user("bidder", organisation, admin=False)
    client.force_login(admin)
    client.post(reverse("accounts:user_set_active", args=[colleague.pk]), {"active": "0"})
    assert not User.objects.get(pk=colleague.pk).is_active
    client.post(reverse("accounts:user_set_active", args=[admin.pk]), {"active": "0"})
    assert User.objects.get(pk=admin.pk).is_active  # nobody disables themselves
    assert AuditEvent.objects.filter(action="user.deactivate").count() == 1


def test_administrator_cannot_disable_users_of_another_organisation(client):
    admin = make_user("bidder", make_org("bidder"))
    stranger = make_user("bidder", make_org("bidder"), admin=False)
    client.force_login(admin)
    assert client.post(reverse("accounts:user_set_active", args=[stranger.pk]), {"active": "0"}).status_code == 403
    assert User.objects.get(pk=stranger.pk).is_active


def test_token_page_shows_the_secret_once_and_revokes(client):
    user = make_user("bidder", make_org("bidder"))
    client.force_login(user)
    response = client.post(reverse("accounts:tokens"), {"name": "投标工具", "days": "30"})
    secret = response.context["secret"]
    assert secret and secret in response.content.decode() and response["Cache-Control"] == "no-store"
    again = client.get(reverse("accounts:tokens")).content.decode()
    assert secret not in again and ApiToken.objects.get().prefix in again
    token = ApiToken.objects.get()
    client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert ApiToken.objects.get().revoked_at is not None


def test_nobody_revokes_another_users_token_through_the_page(client):
    owner = make_user("bidder", make_org("bidder"))
    ApiToken.objects.create(user=owner, name="x", prefix="etp_x", key_hash="0" * 64)
    client.force_login(make_user("bidder", owner.organisation))
    assert client.post(reverse("accounts:token_revoke", args=[ApiToken.objects.get().pk])).status_code == 404
    assert ApiToken.objects.get().revoked_at is None
