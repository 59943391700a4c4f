"""Creating, reviewing and publishing tenders: who may, and the statutory rules checked at request
time (L24 20 days, R16 5 days, R27 maximum price, the scheme, invitations, the sandbox accelerator)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from config.errors import DomainError, IllegalTransition, NotAllowed
from tendering import services
from tendering.models import InvitationStatus, Lot, LotState, Tender, TenderState
from tendering.periods import SHANGHAI
from tests import factories
from tests.factories import actor

pytestmark = pytest.mark.usefixtures("clock")


def unchanged(tender, state):
    tender.refresh_from_db()
    return tender.state == state


# Projects and tenders ---------------------------------------------------------------------------

def test_tenderer_creates_project_and_tender_with_code_and_numbered_lots(owner):
    project = factories.make_project(owner)
    first = factories.make_tender(owner, project=project, lots=3)
    second = factories.make_tender(owner, project=project)
    assert (first.code, second.code) == ("441900-2026-0001", "441900-2026-0002")
    assert list(first.lots.values_list("number", "state")) == [(1, "draft"), (2, "draft"), (3, "draft")]
    assert first.tenderer == owner.organisation and first.created_by == owner
    event = AuditEvent.objects.get(action="tender.create", tender_id=first.pk)
    assert (event.actor_id, event.ip) == (owner.pk, factories.IP)


def test_default_scheme_when_none_given(owner):
    tender = services.tender_create(by=actor(owner), project=factories.make_project(owner), title="t", lots=factories.lots_data())
    assert tender.evaluation_scheme["criteria"]


@pytest.mark.parametrize("kind", ["bidder", "centre", "regulator"])
def test_only_tenderers_and_agencies_create(owner, kind):
    project = factories.make_project(owner)
    with pytest.raises(PermissionDenied):
        services.tender_create(by=actor(factories.person(kind)), project=project, title="t", lots=factories.lots_data())
    assert not Tender.objects.exists()


def test_a_tenderer_cannot_create_for_another_tenderer(owner):
    project = factories.make_project(owner)
    other = factories.person("tenderer")
    with pytest.raises(PermissionDenied):
        services.tender_create(by=actor(other), project=project, title="t", lots=factories.lots_data())
    with pytest.raises(PermissionDenied):
        services.project_create(by=actor(other), tenderer=owner.organisation, code="X-1", name="x")


def test_mandated_agency_creates_for_the_tenderer_and_becomes_the_agency(owner):
    agency_user = factories.person("agency")
    project = factories.make_project(owner, agency=agency_user.organisation)
    tender = factories.make_tender(agency_user, project=project)
    assert tender.agency == agency_user.organisation and tender.tenderer == owner.organisation
    other_agency = factories.make_org("agency")
    with pytest.raises(DomainError):
        services.tender_create(by=actor(agency_user), project=project, title="t", agency=other_agency, lots=factories.lots_data())
    assert Tender.objects.count() == 1


def test_suspended_tenderer_cannot_create(db, clock):
    suspended = factories.person("tenderer", status="suspended")
    with pytest.raises(PermissionDenied):
        services.project_create(by=actor(suspended), tenderer=suspended.organisation, code="S-1", name="x")


@pytest.mark.parametrize("price", [0, -100, "100", 1.5])
def test_bad_maximum_price_refused(owner, price):
    with pytest.raises(DomainError):
        factories.make_tender(owner, lots_data=[{"name": "一标段", "maximum_price_fen": price}])
    assert not Tender.objects.exists()


def test_tender_needs_a_lot(owner):
    with pytest.raises(DomainError):
        services.tender_create(by=actor(owner), project=factories.make_project(owner), title="t", lots=[])


def test_accelerator_refused_on_a_platform_without_sandbox(owner):
    with pytest.raises(DomainError) as error:
        factories.make_tender(owner, accelerator=100)
    assert "沙箱" in str(error.value)
    assert not Tender.objects.exists()


def test_accelerator_allowed_in_sandbox(owner, sandbox):
    tender = factories.make_tender(owner, accelerator=1440, state="published", deadline=timedelta(minutes=21), offer=timedelta(minutes=6))
    assert tender.state == TenderState.PUBLISHED


def test_sandbox_tender_cannot_be_published_once_sandbox_is_off(owner, sandbox):
    tender = factories.make_tender(owner, accelerator=1440, state="approved", deadline=timedelta(minutes=21), offer=timedelta(minutes=6))
    sandbox.PLATFORM_SANDBOX = False
    with pytest.raises(DomainError, match="沙箱"):
        services.tender_publish(by=actor(owner), tender=tender)
    assert unchanged(tender, TenderState.APPROVED)


def test_update_only_by_owner_and_only_while_draft_or_returned(owner, clock):
    tender = factories.make_tender(owner)
    services.tender_update(by=actor(owner), tender=tender, title="新名称")
    with pytest.raises(PermissionDenied):
        services.tender_update(by=actor(factories.person("tenderer")), tender=tender, title="别人的")
    services.tender_submit(by=actor(owner), tender=tender)
    with pytest.raises(IllegalTransition):
        services.tender_update(by=actor(owner), tender=tender, title="提交后")
    with pytest.raises(IllegalTransition):
        services.lot_add(by=actor(owner), tender=tender, name="二标段", maximum_price_fen=100)
    tender.refresh_from_db()
    assert tender.title == "新名称" and tender.lots.count() == 1


def test_update_refuses_unknown_fields_and_naive_times(owner):
    tender = factories.make_tender(owner)
    with pytest.raises(DomainError):
        services.tender_update(by=actor(owner), tender=tender, state="published")
    with pytest.raises(DomainError):
        services.tender_update(by=actor(owner), tender=tender, bid_deadline=tender.bid_deadline.replace(tzinfo=None))


def test_lot_add_and_update(owner):
    tender = factories.make_tender(owner)
    lot = services.lot_add(by=actor(owner), tender=tender, name="二标段", maximum_price_fen=5_000)
    assert lot.number == 2
    services.lot_update(by=actor(owner), lot=lot, maximum_price_fen=6_000)
    assert Lot.objects.get(pk=lot.pk).maximum_price_fen == 6_000


# Review -----------------------------------------------------------------------------------------

def test_centre_reviews_owner_cannot(owner, centre):
    tender = factories.make_tender(owner, state="submitted")
    with pytest.raises(PermissionDenied):
        services.tender_approve(by=actor(owner), tender=tender)
    services.tender_approve(by=actor(centre), tender=tender)
    tender.refresh_from_db()
    assert (tender.state, tender.reviewed_by, tender.reviewed_at is not None) == (TenderState.APPROVED, centre, True)


def test_return_needs_a_reason_and_records_who_and_why(owner, centre):
    tender = factories.make_tender(owner, state="submitted")
    with pytest.raises(DomainError):
        services.tender_return(by=actor(centre), tender=tender, reason="  ")
    assert unchanged(tender, TenderState.SUBMITTED)
    services.tender_return(by=actor(centre), tender=tender, reason="限价依据不足")
    tender.refresh_from_db()
    assert (tender.state, tender.review_reason, tender.reviewed_by) == (TenderState.RETURNED, "限价依据不足", centre)
    services.tender_update(by=actor(owner), tender=tender, announcement="补充限价依据")
    services.tender_submit(by=actor(owner), tender=tender)
    assert unchanged(tender, TenderState.SUBMITTED)


# Publication rules --------------------------------------------------------------------------------

def test_publication_issues_documents_and_publishes_every_lot(owner, clock):
    tender = factories.make_tender(owner, state="published", lots=2)
    assert tender.published_at == clock()
    assert set(tender.lots.values_list("state", flat=True)) == {LotState.PUBLISHED}


def test_l24_deadline_shorter_than_twenty_days_refused(owner):
    with pytest.raises(DomainError, match="20日") as error:
        factories.make_tender(owner, state="submitted", deadline=timedelta(days=19))
    assert "L24" in str(error.value)
    tender = Tender.objects.get()
    assert tender.state == TenderState.DRAFT
    assert not AuditEvent.objects.filter(action="tender.submit").exists()


def test_l24_checked_again_at_publication_by_server_time(owner, clock):
    tender = factories.make_tender(owner, state="approved", deadline=timedelta(days=22))
    clock.advance(days=3)
    with pytest.raises(DomainError, match="L24"):
        services.tender_publish(by=actor(owner), tender=tender)
    assert unchanged(tender, TenderState.APPROVED)
    assert set(tender.lots.values_list("state", flat=True)) == {LotState.DRAFT}


def test_l24_deadline_on_a_holiday_must_move_to_the_next_working_day(owner, clock):
    clock.set(clock().replace(year=2026, month=9, day=11, hour=10, minute=0))  # Friday; +20 days = National Day
    with pytest.raises(DomainError, match="2026-10-08 10:00"):
        factories.make_tender(owner, state="submitted", deadline=timedelta(days=20))
    ok = factories.make_tender(owner, state="published", deadline=timedelta(days=27))  # 10-08 10:00
    assert ok.bid_deadline.astimezone(SHANGHAI).isoformat() == "2026-10-08T10:00:00+08:00"


def test_r16_documents_on_offer_less_than_five_days_refused(owner):
    with pytest.raises(DomainError, match="R16"):
        factories.make_tender(owner, state="submitted", offer=timedelta(days=4))


def test_offer_period_cannot_end_after_the_deadline(owner):
    with pytest.raises(DomainError, match="不能晚于投标截止时间"):
        factories.make_tender(owner, state="submitted", offer=timedelta(days=40), deadline=timedelta(days=30))


def test_r27_every_lot_needs_a_maximum_price(owner):
    with pytest.raises(DomainError, match="R27"):
        factories.make_tender(owner, state="submitted", lots_data=[{"name": "一标段", "maximum_price_fen": 100}, {"name": "二标段"}])


def test_r27_checked_again_at_publication(owner):
    tender = factories.make_tender(owner, state="approved")
    Lot.objects.filter(tender=tender).update(maximum_price_fen=None)
    with pytest.raises(DomainError, match="R27"):
        services.tender_publish(by=actor(owner), tender=tender)
    assert unchanged(tender, TenderState.APPROVED)


def test_invalid_scheme_refused(owner):
    bad = {"criteria": [{"code": "P1", "name": "报价", "category": "price", "max_score": 60}], "price_formula": {"benchmark": "lowest", "deduct_above_per_percent": 1, "deduct_below_per_percent": 0}}
    with pytest.raises(DomainError, match="合计应为100分"):
        factories.make_tender(owner, state="submitted", evaluation_scheme=bad)


def test_publish_only_by_owner_and_only_when_approved(owner):
    draft = factories.make_tender(owner)
    with pytest.raises(IllegalTransition):
        services.tender_publish(by=actor(owner), tender=draft)
    approved = factories.make_tender(owner, state="approved")
    with pytest.raises(PermissionDenied):
        services.tender_publish(by=actor(factories.person("tenderer")), tender=approved)
    with pytest.raises(PermissionDenied):
        services.tender_publish(by=actor(factories.person("bidder")), tender=approved)
    assert unchanged(approved, TenderState.APPROVED)


# Invited tenders ----------------------------------------------------------------------------------

def test_invited_tender_needs_three_verified_invitees(owner):
    two = [factories.make_org("bidder") for _ in range(2)]
    with pytest.raises(DomainError, match="3个以上"):
        factories.make_tender(owner, procedure="invited", invitees=two, state="submitted")
    assert Tender.objects.get().state == TenderState.DRAFT


def test_invitee_suspended_after_choice_no_longer_counts(owner, centre):
    tender = factories.make_tender(owner, procedure="invited", state="approved")
    from accounts import services as accounts_services

    accounts_services.organisation_suspend(by=actor(centre), organisation=tender.invitations.first().organisation, reason="违规")
    with pytest.raises(DomainError, match="当前为2个"):
        services.tender_publish(by=actor(owner), tender=tender)


@pytest.mark.parametrize(("kind", "status"), [("tenderer", "approved"), ("bidder", "pending"), ("bidder", "suspended")])
def test_only_verified_bidders_can_be_invited(owner, kind, status):
    tender = factories.make_tender(owner, procedure="invited")
    before = list(tender.invitations.values_list("organisation_id", flat=True))
    bad = factories.make_org(kind, status=status)
    with pytest.raises(DomainError):
        services.invitations_set(by=actor(owner), tender=tender, organisations=[*(i.organisation for i in tender.invitations.all()), bad], criteria={})
    assert list(tender.invitations.values_list("organisation_id", flat=True)) == before


def test_open_tender_has_no_invitations(owner):
    tender = factories.make_tender(owner)
    with pytest.raises(DomainError):
        services.invitations_set(by=actor(owner), tender=tender, organisations=[factories.make_org("bidder")], criteria={})


def test_invitations_are_sent_at_publication(owner, clock):
    tender = factories.make_tender(owner, procedure="invited", state="approved")
    assert set(tender.invitations.values_list("status", flat=True)) == {InvitationStatus.DRAFT}
    services.tender_publish(by=actor(owner), tender=tender)
    assert set(tender.invitations.values_list("status", flat=True)) == {InvitationStatus.SENT}
    assert set(tender.invitations.values_list("sent_at", flat=True)) == {clock()}
    assert AuditEvent.objects.filter(action="invitation.send", tender_id=tender.pk).count() == 3


def test_invitation_reply_deadline_must_not_be_after_the_bid_deadline(owner):
    with pytest.raises(DomainError, match="邀请回复截止时间"):
        factories.make_tender(owner, procedure="invited", reply=timedelta(days=40), state="submitted")
