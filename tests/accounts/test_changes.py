"""Changes to verified data take effect only once the centre approves them."""

import pytest
from django.core.exceptions import PermissionDenied

from accounts import services
from accounts.models import ChangeStatus, Organisation, OrganisationChange
from audit.models import AuditEvent
from config.errors import DomainError, IllegalTransition
from tests.accounts.conftest import actor, make_org, make_user, new_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def verified():
    organisation = make_org("tenderer", name="东莞市水务局")
    return organisation, actor(make_user("tenderer", organisation))


def test_approved_version_stays_in_force_until_the_change_is_approved(verified, centre, centre_user):
    organisation, owner = verified
    old_code, new = organisation.credit_code, new_code("442000")
    change = services.organisation_change_request(by=owner, organisation=organisation, data={"name": "东莞市水务局（新）", "credit_code": new, "address": organisation.address})
    assert change.data == {"name": "东莞市水务局（新）", "credit_code": new}  # unchanged fields are dropped
    organisation.refresh_from_db()
    assert (organisation.name, organisation.credit_code, organisation.status) == ("东莞市水务局", old_code, "approved")

    services.organisation_change_approve(by=centre, change=change)
    organisation.refresh_from_db()
    change.refresh_from_db()
    assert (organisation.name, organisation.credit_code, organisation.region_code) == ("东莞市水务局（新）", new, "442000")
    assert change.status == ChangeStatus.APPROVED and change.reviewed_by == centre_user and change.reviewed_at
    event = AuditEvent.objects.get(action="organisationchange.approve")
    assert "东莞市水务局（新）" in event.body and old_code in event.body


def test_rejected_change_leaves_the_verified_data_and_records_the_reason(verified, centre):
    organisation, owner = verified
    change = services.organisation_change_request(by=owner, organisation=organisation, data={"address": "中山市"})
    services.organisation_change_reject(by=centre, change=change, reason="未提供变更证明")
    change.refresh_from_db()
    organisation.refresh_from_db()
    assert change.status == ChangeStatus.REJECTED and change.review_reason == "未提供变更证明"
    assert organisation.address == "东莞市南城街道"
    # A new request may follow once the old one is decided.
    services.organisation_change_request(by=owner, organisation=organisation, data={"address": "中山市"})


def test_only_one_pending_change_at_a_time(verified):
    organisation, owner = verified
    services.organisation_change_request(by=owner, organisation=organisation, data={"address": "甲"})
    with pytest.raises(DomainError) as caught:
        services.organisation_change_request(by=owner, organisation=organisation, data={"address": "乙"})
    assert caught.value.code == "pending_change"
    assert OrganisationChange.objects.count() == 1


def test_change_with_nothing_different_is_refused(verified):
    organisation, owner = verified
    with pytest.raises(DomainError) as caught:
        services.organisation_change_request(by=owner, organisation=organisation, data={"name": organisation.name})
    assert caught.value.code == "no_change"


def test_drafts_edit_directly_instead_of_requesting_a_change(visitor):
    organisation = make_org("bidder", status="draft")
    owner = actor(make_user("bidder", organisation))
    with pytest.raises(DomainError) as caught:
        services.organisation_change_request(by=owner, organisation=organisation, data={"address": "x"})
    assert caught.value.code == "not_verified"


def test_approved_organisation_cannot_be_edited_directly(verified):
    organisation, owner = verified
    with pytest.raises(DomainError) as caught:
        services.organisation_update(by=owner, organisation=organisation, data={"address": "x"})
    assert caught.value.code == "locked"
    assert Organisation.objects.get(pk=organisation.pk).address == "东莞市南城街道"


def test_malformed_code_in_a_change_is_refused(verified):
    organisation, owner = verified
    with pytest.raises(DomainError) as caught:
        services.organisation_change_request(by=owner, organisation=organisation, data={"credit_code": "914403001922038217"})
    assert caught.value.code == "credit_code"
    assert not OrganisationChange.objects.exists()


def test_a_name_claimed_by_a_pending_change_is_reserved(verified, visitor):
    organisation, owner = verified
    services.organisation_change_request(by=owner, organisation=organisation, data={"name": "莞水集团"})
    other = make_org("tenderer")
    other_owner = actor(make_user("tenderer", other))
    with pytest.raises(DomainError) as caught:
        services.organisation_change_request(by=other_owner, organisation=other, data={"name": "莞水集团"})
    assert caught.value.code == "duplicate_name"
    with pytest.raises(DomainError):
        services.organisation_register(
            by=visitor, kind="bidder", data={"name": "莞水集团", "credit_code": new_code()}, username="x1", password="Strong-pass-2026"
        )


def test_approval_rechecks_uniqueness_against_organisations_registered_since(verified, centre):
    organisation, owner = verified
    code = new_code()
    change = services.organisation_change_request(by=owner, organisation=organisation, data={"credit_code": code})
    # Data loaded around the services (e.g. an import) can still take the code meanwhile.
    make_org("bidder", credit_code=code)
    with pytest.raises(DomainError) as caught:
        services.organisation_change_approve(by=centre, change=change)
    assert caught.value.code == "duplicate_credit_code"
    change.refresh_from_db()
    assert change.status == ChangeStatus.PENDING
    assert Organisation.objects.get(pk=organisation.pk).credit_code != code


def test_approving_or_rejecting_a_decided_change_is_an_illegal_transition(verified, centre):
    organisation, owner = verified
    change = services.organisation_change_request(by=owner, organisation=organisation, data={"address": "新"})
    services.organisation_change_approve(by=centre, change=change)
    with pytest.raises(IllegalTransition):
        services.organisation_change_approve(by=centre, change=change)
    with pytest.raises(IllegalTransition):
        services.organisation_change_reject(by=centre, change=change, reason="晚了")


def test_change_reject_needs_a_reason_and_centre_staff(verified, centre, users_by_role):
    organisation, owner = verified
    change = services.organisation_change_request(by=owner, organisation=organisation, data={"address": "新"})
    with pytest.raises(DomainError):
        services.organisation_change_reject(by=centre, change=change, reason="")
    for role in ("tenderer", "regulator", "expert"):
        with pytest.raises(PermissionDenied):
            services.organisation_change_approve(by=actor(users_by_role[role]), change=change)
    with pytest.raises(PermissionDenied):
        services.organisation_change_approve(by=owner, change=change)
    change.refresh_from_db()
    assert change.status == ChangeStatus.PENDING
