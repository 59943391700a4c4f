"""Registration and verification of an organisation by the centre, and every way it can go wrong."""

import pytest
from django.core.exceptions import PermissionDenied

from accounts import services
from accounts.models import Organisation, OrganisationStatus, User
from accounts.permissions import acting_member
from audit.models import AuditEvent
from config.errors import DomainError, IllegalTransition
from tests.accounts.conftest import actor, make_org, make_user, new_code

pytestmark = pytest.mark.django_db

HUAWEI = "914403001922038216"


def register(visitor, **overrides):
    data = {"name": "东莞市建工集团有限公司", "credit_code": HUAWEI, "legal_representative": "李四", "address": "东莞市莞城区", "contact_phone": "0769-23000000"}
    data.update(overrides.pop("data", {}))
    args = {"kind": "bidder", "username": "jiangong", "password": "Strong-pass-2026", "display_name": "王五"} | overrides
    return services.organisation_register(by=visitor, data=data, **args)


def snapshot(organisation):
    organisation = Organisation.objects.get(pk=organisation.pk)
    return {f.name: getattr(organisation, f.attname) for f in Organisation._meta.concrete_fields}


def admin_of(organisation):
    return actor(organisation.users.get(is_org_admin=True))


def test_registration_creates_a_draft_with_its_administrator_and_an_audit_event(visitor):
    organisation = register(visitor, data={"credit_code": " 914403001922038216 "})
    assert organisation.status == OrganisationStatus.DRAFT
    assert organisation.credit_code == HUAWEI
    assert organisation.region_code == "440300"
    user = organisation.users.get()
    assert (user.username, user.role, user.is_org_admin) == ("jiangong", "bidder", True)
    assert user.check_password("Strong-pass-2026")
    event = AuditEvent.objects.get(action="organisation.register")
    assert event.actor_name == "jiangong" and event.ip == "198.51.100.7"


def test_whole_flow_register_submit_reject_amend_resubmit_approve(visitor, centre, centre_user):
    organisation = register(visitor)
    owner = admin_of(organisation)
    services.organisation_submit(by=owner, organisation=organisation)
    services.organisation_reject(by=centre, organisation=organisation, reason="营业执照与名称不符")
    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.REJECTED
    assert organisation.review_reason == "营业执照与名称不符"
    assert organisation.reviewed_by == centre_user and organisation.reviewed_at is not None

    services.organisation_update(by=owner, organisation=organisation, data={"name": "东莞市建工集团股份有限公司"})
    services.organisation_submit(by=owner, organisation=organisation)
    services.organisation_approve(by=centre, organisation=organisation)
    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.APPROVED
    assert organisation.name == "东莞市建工集团股份有限公司"
    assert organisation.review_reason == ""
    assert acting_member(organisation.users.get(), "bidder")
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == [
        "organisation.register", "organisation.submit", "organisation.reject", "organisation.update",
        "organisation.submit", "organisation.approve",
    ]


def test_a_draft_organisation_cannot_act_until_approved(visitor):
    organisation = register(visitor)
    assert not acting_member(organisation.users.get(), "bidder")


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("914403001922038217", "校验码应为“6”"),
        ("91440300192203821I", "不能包含字符“I”"),
        ("9144030019220382", "应为18位"),
        ("91A4030019220382XX", "行政区划代码"),
    ],
)
def test_malformed_credit_code_is_refused_with_the_reason_and_nothing_is_created(visitor, code, problem):
    with pytest.raises(DomainError) as caught:
        register(visitor, data={"credit_code": code})
    assert caught.value.code == "credit_code"
    assert problem in str(caught.value.message)
    assert not Organisation.objects.exists() and not User.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"name": "已有单位（东莞）有限公司"}, "duplicate_name"),
        ({"name": "已有单位(东莞)有限公司"}, "duplicate_name"),  # half-width brackets are the same name
        ({"credit_code": "9144030071526726xg"}, "duplicate_credit_code"),
    ],
)
def test_duplicate_name_or_credit_code_is_refused(visitor, data, code):
    make_org("bidder", name="已有单位（东莞）有限公司", credit_code="9144030071526726XG")
    with pytest.raises(DomainError) as caught:
        register(visitor, data={"credit_code": HUAWEI, "name": "新单位"} | data)
    assert caught.value.code == code
    assert Organisation.objects.count() == 1 and not User.objects.exists()


def test_duplicate_username_is_refused_and_the_organisation_rolls_back(visitor):
    make_user("bidder", make_org("bidder"), username="jiangong")
    with pytest.raises(DomainError) as caught:
        register(visitor)
    assert caught.value.code == "duplicate_username"
    assert not Organisation.objects.filter(credit_code=HUAWEI).exists()


def test_weak_password_is_refused(visitor):
    with pytest.raises(DomainError) as caught:
        register(visitor, password="123")
    assert caught.value.code == "password"
    assert not Organisation.objects.exists()


def test_visitors_cannot_register_a_centre_or_regulator(visitor):
    for kind in ("centre", "regulator"):
        with pytest.raises(DomainError):
            register(visitor, kind=kind)
    assert not Organisation.objects.exists()


def test_centre_staff_may_set_up_a_regulator(centre):
    organisation = register(centre, kind="regulator", data={"name": "东莞市发展和改革局"})
    assert organisation.kind == "regulator"
    assert AuditEvent.objects.get(action="organisation.register").actor_name == centre.name


def test_too_long_field_is_refused_on_every_database(visitor):
    with pytest.raises(DomainError) as caught:
        register(visitor, data={"contact_phone": "1" * 41})
    assert caught.value.code == "too_long"


def test_unknown_field_is_refused(visitor):
    organisation = register(visitor)
    before = snapshot(organisation)
    with pytest.raises(DomainError):
        services.organisation_update(by=admin_of(organisation), organisation=organisation, data={"status": "approved"})
    assert snapshot(organisation) == before


def test_submission_needs_the_data_the_centre_verifies(visitor):
    organisation = register(visitor, data={"legal_representative": ""})
    with pytest.raises(DomainError) as caught:
        services.organisation_submit(by=admin_of(organisation), organisation=organisation)
    assert "法定代表人" in str(caught.value.message)
    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.DRAFT and organisation.submitted_at is None


def test_edit_while_pending_is_refused_and_changes_nothing(visitor):
    organisation = register(visitor)
    owner = admin_of(organisation)
    services.organisation_submit(by=owner, organisation=organisation)
    before, events = snapshot(organisation), AuditEvent.objects.count()
    with pytest.raises(DomainError) as caught:
        services.organisation_update(by=owner, organisation=organisation, data={"name": "换个名字"})
    assert caught.value.code == "locked"
    assert snapshot(organisation) == before and AuditEvent.objects.count() == events


def test_submitting_twice_is_an_illegal_transition(visitor):
    organisation = register(visitor)
    services.organisation_submit(by=admin_of(organisation), organisation=organisation)
    with pytest.raises(IllegalTransition):
        services.organisation_submit(by=admin_of(organisation), organisation=organisation)


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_without_reason_is_refused(visitor, centre, reason):
    organisation = register(visitor)
    services.organisation_submit(by=admin_of(organisation), organisation=organisation)
    before = snapshot(organisation)
    with pytest.raises(DomainError) as caught:
        services.organisation_reject(by=centre, organisation=organisation, reason=reason)
    assert caught.value.code == "reason_required"
    assert snapshot(organisation) == before


@pytest.mark.parametrize("role", ["bidder", "tenderer", "agency", "regulator", "expert"])
def test_only_centre_staff_approve(visitor, users_by_role, role):
    organisation = register(visitor)
    services.organisation_submit(by=admin_of(organisation), organisation=organisation)
    with pytest.raises(PermissionDenied):
        services.organisation_approve(by=actor(users_by_role[role]), organisation=organisation)
    with pytest.raises(PermissionDenied):
        services.organisation_reject(by=actor(users_by_role[role]), organisation=organisation, reason="x")
    assert Organisation.objects.get(pk=organisation.pk).status == OrganisationStatus.PENDING


def test_staff_of_a_suspended_centre_cannot_approve(visitor, centre_user):
    organisation = register(visitor)
    services.organisation_submit(by=admin_of(organisation), organisation=organisation)
    centre_user.organisation.status = OrganisationStatus.SUSPENDED
    centre_user.organisation.save()
    with pytest.raises(PermissionDenied):
        services.organisation_approve(by=actor(centre_user), organisation=organisation)


def test_approving_twice_is_an_illegal_transition(visitor, centre):
    organisation = register(visitor)
    services.organisation_submit(by=admin_of(organisation), organisation=organisation)
    services.organisation_approve(by=centre, organisation=organisation)
    with pytest.raises(IllegalTransition):
        services.organisation_approve(by=centre, organisation=organisation)


def test_a_draft_cannot_be_approved(visitor, centre):
    organisation = register(visitor)
    with pytest.raises(IllegalTransition):
        services.organisation_approve(by=centre, organisation=organisation)
    assert Organisation.objects.get(pk=organisation.pk).status == OrganisationStatus.DRAFT


def test_only_the_organisations_own_administrator_edits_it(visitor, users_by_role):
    organisation = register(visitor)
    colleague = make_user("bidder", organisation, admin=False)
    before = snapshot(organisation)
    for user in (colleague, users_by_role["bidder"], users_by_role["centre"]):
        with pytest.raises(PermissionDenied):
            services.organisation_update(by=actor(user), organisation=organisation, data={"address": "别处"})
        with pytest.raises(PermissionDenied):
            services.organisation_submit(by=actor(user), organisation=organisation)
    assert snapshot(organisation) == before


def test_suspend_and_restore_with_reasons(centre):
    organisation = make_org("bidder")
    member = make_user("bidder", organisation)
    services.organisation_suspend(by=centre, organisation=organisation, reason="涉嫌串通投标，立案调查")
    organisation.refresh_from_db()
    member.refresh_from_db()
    assert organisation.status == OrganisationStatus.SUSPENDED
    assert organisation.status_reason == "涉嫌串通投标，立案调查"
    assert not acting_member(member, "bidder")

    services.organisation_restore(by=centre, organisation=organisation, reason="调查结束")
    organisation.refresh_from_db()
    member.refresh_from_db()
    assert organisation.status == OrganisationStatus.APPROVED and organisation.status_reason == ""
    assert acting_member(member, "bidder")
    payloads = [e.body for e in AuditEvent.objects.filter(action__in=["organisation.suspend", "organisation.restore"]).order_by("seq")]
    assert "涉嫌串通投标" in payloads[0] and "调查结束" in payloads[1]


def test_suspend_needs_a_reason_and_an_approved_organisation(centre):
    organisation = make_org("bidder")
    with pytest.raises(DomainError):
        services.organisation_suspend(by=centre, organisation=organisation, reason=" ")
    with pytest.raises(IllegalTransition):
        services.organisation_restore(by=centre, organisation=organisation, reason="没有暂停")
    draft = make_org("bidder", status="draft")
    with pytest.raises(IllegalTransition):
        services.organisation_suspend(by=centre, organisation=draft, reason="x")
    assert Organisation.objects.get(pk=organisation.pk).status == OrganisationStatus.APPROVED


def test_centre_staff_cannot_suspend_their_own_centre(centre, centre_user):
    with pytest.raises(PermissionDenied):
        services.organisation_suspend(by=centre, organisation=centre_user.organisation, reason="x")


def test_suspension_needs_centre_staff(users_by_role):
    organisation = make_org("bidder")
    with pytest.raises(PermissionDenied):
        services.organisation_suspend(by=actor(users_by_role["regulator"]), organisation=organisation, reason="x")


def test_suspended_organisation_may_still_correct_its_data_but_not_act(centre):
    organisation = make_org("bidder", status="suspended")
    admin = make_user("bidder", organisation)
    assert not acting_member(admin, "bidder")
    change = services.organisation_change_request(by=actor(admin), organisation=organisation, data={"address": "新地址"})
    assert change.status == "pending"


def test_credit_code_from_the_test_helper_is_valid():
    from accounts import credit_code

    assert credit_code.is_valid(new_code())
