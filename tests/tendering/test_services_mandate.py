"""委托代理: only a tenderer creates its projects and may mandate one verified agency per project;
only that agency drafts tenders for it, and a tender's agency is always its project's. Publication
needs parties that may act and the tender documents; amounts, accelerators and dates are bounded."""

from datetime import datetime

import pytest
from django.core.exceptions import PermissionDenied

from accounts import services as accounts_services
from accounts.permissions import can
from audit.models import AuditEvent
from config.errors import DomainError, NotAllowed
from tendering import services
from tendering.models import Project, Tender, TenderState
from tendering.money import MAX_FEN
from tendering.periods import SHANGHAI
from tests import factories
from tests.factories import actor

pytestmark = pytest.mark.usefixtures("clock")


def test_only_the_tenderer_creates_its_projects(owner):
    agency_user = factories.person("agency")
    with pytest.raises(PermissionDenied):
        services.project_create(by=actor(agency_user), tenderer=owner.organisation, code="A-1", name="代理自建")
    assert not Project.objects.exists()


@pytest.mark.parametrize("agency_status", ["pending", "suspended"])
def test_mandate_must_name_a_verified_active_agency(owner, agency_status):
    for agency in (factories.make_org("agency", status=agency_status), factories.make_org("bidder")):
        with pytest.raises(DomainError, match="委托代理机构"):
            services.project_create(by=actor(owner), tenderer=owner.organisation, code="M-1", name="x", agency=agency)
    assert not Project.objects.exists()


def test_an_agency_creates_tenders_only_for_projects_that_mandate_it(owner):
    mandated, other_agency = factories.person("agency"), factories.person("agency")
    project = factories.make_project(owner, agency=mandated.organisation)
    with pytest.raises(PermissionDenied):
        services.tender_create(by=actor(other_agency), project=project, title="t", lots=factories.lots_data())
    with pytest.raises(PermissionDenied):
        services.tender_create(by=actor(mandated), project=factories.make_project(owner), title="t", lots=factories.lots_data())
    assert not Tender.objects.exists()
    tender = services.tender_create(by=actor(mandated), project=project, title="t", lots=factories.lots_data())
    assert tender.agency == mandated.organisation


def test_the_tenderer_cannot_name_another_agency_and_an_edit_cannot_hand_the_draft_over(owner):
    mandated, stranger = factories.person("agency"), factories.make_org("agency")
    project = factories.make_project(owner, agency=mandated.organisation)
    with pytest.raises(DomainError):
        services.tender_create(by=actor(owner), project=project, title="t", agency=stranger, lots=factories.lots_data())
    tender = services.tender_create(by=actor(owner), project=project, title="t", lots=factories.lots_data())
    assert tender.agency == mandated.organisation  # the project's mandate, without naming it
    for by in (owner, mandated):
        with pytest.raises(DomainError):
            services.tender_update(by=actor(by), tender=tender, agency=stranger)
    tender.refresh_from_db()
    assert tender.agency == mandated.organisation


def test_changing_the_mandate_moves_drafts_but_not_submitted_tenders(owner):
    first, second = factories.person("agency"), factories.person("agency")
    project = factories.make_project(owner, agency=first.organisation)
    draft = factories.make_tender(owner, project=project)
    submitted = factories.make_tender(owner, project=project, state="submitted")
    with pytest.raises(PermissionDenied):
        services.project_mandate(by=actor(first), project=project, agency=second.organisation)
    services.project_mandate(by=actor(owner), project=project, agency=second.organisation)
    draft.refresh_from_db(), submitted.refresh_from_db()
    assert (draft.agency, submitted.agency) == (second.organisation, first.organisation)
    assert AuditEvent.objects.filter(action="project.mandate").count() == 1


def test_a_suspended_tenderer_blocks_creation_and_publication_even_by_its_agency(owner, centre):
    agency_user = factories.person("agency")
    project = factories.make_project(owner, agency=agency_user.organisation)
    tender = factories.make_tender(agency_user, project=project, state="approved")
    accounts_services.organisation_suspend(by=actor(centre), organisation=owner.organisation, reason="违规")
    with pytest.raises(DomainError, match="招标人单位未核验或已被暂停"):
        services.tender_publish(by=actor(agency_user), tender=tender)
    tender.refresh_from_db()
    assert tender.state == TenderState.APPROVED
    with pytest.raises(NotAllowed):
        services.tender_create(by=actor(agency_user), project=project, title="t", lots=factories.lots_data())


def test_a_suspended_agency_blocks_publication_by_the_tenderer(owner, centre):
    agency_user = factories.person("agency")
    tender = factories.make_tender(owner, project=factories.make_project(owner, agency=agency_user.organisation), state="approved")
    accounts_services.organisation_suspend(by=actor(centre), organisation=agency_user.organisation, reason="违规")
    with pytest.raises(DomainError, match="招标代理机构未核验或已被暂停"):
        services.tender_publish(by=actor(owner), tender=tender)
    tender.refresh_from_db()
    assert tender.state == TenderState.APPROVED


def test_no_submission_without_the_tender_documents(owner):
    tender = factories.make_tender(owner, documents=False)
    with pytest.raises(DomainError, match="请先上传招标文件"):
        services.tender_submit(by=actor(owner), tender=tender)
    tender.refresh_from_db()
    assert tender.state == TenderState.DRAFT
    factories.upload(owner, tender)
    assert services.tender_submit(by=actor(owner), tender=tender).state == TenderState.SUBMITTED


def test_an_unverified_regulator_sees_no_draft(owner):
    tender = factories.make_tender(owner)
    assert can(factories.person("regulator"), "tendering.view_tender", tender)
    for status in ("pending", "suspended"):
        regulator = factories.person("regulator", status=status)
        assert not can(regulator, "tendering.view_tender", tender)
        assert not can(regulator, "tendering.view_registrations", tender)


@pytest.mark.parametrize("price", [MAX_FEN + 1, 2**64])
def test_prices_beyond_the_platform_bound_refused(owner, price):
    with pytest.raises(DomainError):
        factories.make_tender(owner, lots_data=[{"name": "一标段", "maximum_price_fen": price}])
    with pytest.raises(DomainError):
        services.project_create(by=actor(owner), tenderer=owner.organisation, code="BIG", name="x", investment_fen=price)
    assert not Tender.objects.exists() and not Project.objects.filter(code="BIG").exists()


def test_accelerator_is_capped(owner, sandbox):
    with pytest.raises(DomainError, match="加速倍数"):
        factories.make_tender(owner, accelerator=10**9)
    assert not Tender.objects.exists()


@pytest.mark.parametrize("year", [1, 1999, 2101])
def test_dates_outside_2000_to_2100_refused(owner, year):
    tender = factories.make_tender(owner)
    before = tender.bid_deadline
    with pytest.raises(DomainError, match="年份"):
        services.tender_update(by=actor(owner), tender=tender, bid_deadline=datetime(year, 1, 1, tzinfo=SHANGHAI))
    tender.refresh_from_db()
    assert tender.bid_deadline == before
