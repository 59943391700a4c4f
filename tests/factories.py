"""Organisations, users and tenders for tests, made through the real services, so every test
starts from a state the platform itself produces (audit events included).

    centre = make_org("centre"); bidder = make_org("bidder")
    owner = admin_of(make_org("tenderer"))
    tender = make_tender(owner, state="published")
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from django.core.files.base import ContentFile

from accounts import credit_code
from accounts import services as accounts_services
from accounts.models import Organisation, OrganisationStatus, User
from audit.actor import Actor
from tendering import scheme, services
from tendering.models import Tender, TenderState

PASSWORD = "Pw-for-tests-2026"
SYSTEM = Actor.system("tests")
IP = "192.0.2.10"
_serial = itertools.count(1)


def actor(user: User, ip: str = IP) -> Actor:
    return Actor.from_user(user, ip=ip)


def admin_of(organisation: Organisation) -> User:
    """The user who registered the organisation (its administrator), with its organisation as
    stored now."""
    return User.objects.select_related("organisation").filter(organisation_id=organisation.pk).order_by("pk").first()


def _register(kind: str, name: str | None, data: dict) -> Organisation:
    number = next(_serial)
    fields = {
        "name": name or f"测试{kind}单位{number}",
        "credit_code": credit_code.complete(f"91441900{number:09d}"),
        "legal_representative": "张三",
        "address": "东莞市南城街道",
        "contact_phone": "0769-22000000",
        **data,
    }
    return accounts_services.organisation_register(by=SYSTEM, kind=kind, data=fields, username=f"{kind}{number}", password=PASSWORD)


def centre_reviewer() -> User:
    """A staff user of a verified trading centre: the platform's first centre, opened the way
    `manage.py create_centre` opens it."""
    reviewer = User.objects.filter(role="centre", organisation__status=OrganisationStatus.APPROVED).order_by("pk").first()
    if reviewer is None:
        number = next(_serial)
        centre = accounts_services.centre_bootstrap(
            by=SYSTEM, name="东莞市公共资源交易中心", credit_code=credit_code.complete(f"91441900{number:09d}"),
            username=f"centre{number}", password=PASSWORD, legal_representative="张三", address="东莞市南城街道",
            contact_phone="0769-22000000",
        )
        reviewer = admin_of(centre)
    return reviewer


def make_org(kind: str, *, status: str = OrganisationStatus.APPROVED, name: str | None = None, **data) -> Organisation:
    """An organisation of `kind`, registered, submitted and reviewed by the centre up to `status`
    (draft, pending, approved, rejected or suspended)."""
    if kind == "centre" and status == OrganisationStatus.APPROVED and name is None:
        return centre_reviewer().organisation
    organisation = _register(kind, name, data)
    admin = admin_of(organisation)
    if status != OrganisationStatus.DRAFT:
        accounts_services.organisation_submit(by=actor(admin), organisation=organisation)
    if status in (OrganisationStatus.APPROVED, OrganisationStatus.SUSPENDED):
        accounts_services.organisation_approve(by=actor(centre_reviewer()), organisation=organisation)
    if status == OrganisationStatus.REJECTED:
        accounts_services.organisation_reject(by=actor(centre_reviewer()), organisation=organisation, reason="资料不全")
    if status == OrganisationStatus.SUSPENDED:
        accounts_services.organisation_suspend(by=actor(centre_reviewer()), organisation=organisation, reason="涉嫌违规")
    organisation.refresh_from_db()
    return organisation


def make_user(organisation: Organisation, *, is_org_admin: bool = False) -> User:
    """Another user of `organisation` (role = its kind), created by its administrator (so not for a
    suspended organisation: create users before suspending it)."""
    by = admin_of(organisation)
    number = next(_serial)
    return accounts_services.user_create(
        by=actor(by), organisation=organisation, username=f"{organisation.kind}-user{number}", password=PASSWORD,
        role=organisation.kind, is_org_admin=is_org_admin,
    )


def person(kind: str, **kwargs) -> User:
    """The administrator of a fresh organisation of `kind` (verified unless status= says otherwise)."""
    return admin_of(make_org(kind, **kwargs))


def lots_data(count: int = 1, maximum_price_fen: int | None = 100_000_000) -> list[dict]:
    return [{"name": f"第{n}标段", "description": "施工", "maximum_price_fen": maximum_price_fen} for n in range(1, count + 1)]


def make_project(owner: User, tenderer: Organisation | None = None, agency: Organisation | None = None):
    """A project of `owner`'s organisation (a tenderer), mandating `agency` if given."""
    return services.project_create(
        by=actor(owner), tenderer=tenderer or owner.organisation, code=f"P-{next(_serial)}", name="道路改造工程", agency=agency
    )


def mandated_project(agency_user: User) -> "services.Project":
    """A project of a fresh verified tenderer that mandates `agency_user`'s organisation."""
    return make_project(person("tenderer"), agency=agency_user.organisation)


def make_tender(
    owner: User,
    *,
    state: str = TenderState.DRAFT,
    now: datetime | None = None,
    procedure: str = "open",
    lots: int = 1,
    deadline: timedelta = timedelta(days=30),
    offer: timedelta = timedelta(days=10),
    reply: timedelta = timedelta(days=5),
    accelerator: int = 1,
    invitees: list[Organisation] | None = None,
    project=None,
    documents: bool = True,
    **fields,
) -> Tender:
    """A tender of `owner`'s organisation (a tenderer; or an agency, on a project mandating it)
    taken through the services up to `state` (draft, submitted, approved, published), with the
    tender documents uploaded unless `documents=False`. Deadlines are relative to `now`
    (default: the current, possibly patched, server time)."""
    from django.utils import timezone

    now = now or timezone.now()
    if project is None:
        project = mandated_project(owner) if owner.role == "agency" else make_project(owner)
    tender = services.tender_create(
        by=actor(owner), project=project, title=fields.pop("title", "道路改造工程施工"), procedure=procedure,
        bid_deadline=now + deadline, documents_offer_end=now + offer,
        invitation_reply_deadline=(now + reply) if procedure == "invited" else None,
        accelerator=accelerator, evaluation_scheme=fields.pop("evaluation_scheme", scheme.default_scheme()),
        lots=fields.pop("lots_data", None) or lots_data(lots), **fields,
    )
    if procedure == "invited":
        invitees = invitees if invitees is not None else [make_org("bidder") for _ in range(3)]
        services.invitations_set(by=actor(owner), tender=tender, organisations=invitees, criteria={"qualification": "市政"})
    if documents:
        # An ASCII title: pages rendered in English (tests/test_i18n.py) show it as user data.
        upload(owner, tender, title="tender-documents.pdf")
    if state == TenderState.DRAFT:
        return tender
    services.tender_submit(by=actor(owner), tender=tender)
    if state == TenderState.SUBMITTED:
        return _fresh(tender)
    services.tender_approve(by=actor(centre_reviewer()), tender=tender)
    if state == TenderState.APPROVED:
        return _fresh(tender)
    services.tender_publish(by=actor(owner), tender=tender)
    if state == TenderState.PUBLISHED:
        return _fresh(tender)
    raise ValueError(f"make_tender cannot reach state {state!r}")


def _fresh(tender: Tender) -> Tender:
    tender.refresh_from_db()
    return tender


def register_bidder(tender: Tender, bidder: User | None = None) -> User:
    """A verified bidder that obtained the tender's documents; returns its user."""
    bidder = bidder or person("bidder")
    services.bidder_register(by=actor(bidder), tender=tender)
    return bidder


def upload(owner: User, tender: Tender, title: str = "招标文件", content: bytes = b"%PDF-1.7 tender documents", **kwargs):
    return services.tender_document_upload(by=actor(owner), tender=tender, title=title, uploaded_file=ContentFile(content, name="doc.pdf"), **kwargs)
