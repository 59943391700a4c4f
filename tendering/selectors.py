"""Reads about tenders that span relations. Confidentiality (L22, E21) is applied here: who
obtained the documents is visible to each bidder about itself only, and to insiders only after the
opening (rule `tendering.view_registrations`)."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from accounts.models import Organisation, OrganisationKind, OrganisationStatus
from accounts.permissions import can, has_role
from tendering import periods
from tendering.models import (
    BidderRegistration,
    Clarification,
    ClarificationAck,
    DocumentDownload,
    LotState,
    Objection,
    Question,
    Tender,
    TenderDocument,
    TenderState,
)


def public_announcements(*, q: str = "", state: str = "", date_from: date | None = None, date_to: date | None = None) -> QuerySet[Tender]:
    """Published tenders and those cancelled after publication, newest first."""
    tenders = Tender.objects.filter(published_at__isnull=False, state__in=[TenderState.PUBLISHED, TenderState.CANCELLED])
    q = (q or "").strip()
    if q:
        tenders = tenders.filter(
            Q(code__icontains=q) | Q(title__icontains=q) | Q(project__name__icontains=q) | Q(tenderer__name__icontains=q)
        )
    if state in TenderState.values:
        tenders = tenders.filter(state=state)
    elif state in LotState.values:
        tenders = tenders.filter(lots__state=state).distinct()
    if date_from:
        tenders = tenders.filter(published_at__date__gte=date_from)
    if date_to:
        tenders = tenders.filter(published_at__date__lte=date_to)
    return tenders.select_related("project", "tenderer", "agency").order_by("-published_at")


def tenders_for_workspace(user) -> QuerySet[Tender]:
    """Tenders of the user's organisation, as tenderer or as agency."""
    organisation_id = getattr(user, "organisation_id", None)
    if organisation_id is None:
        return Tender.objects.none()
    return Tender.objects.filter(Q(tenderer_id=organisation_id) | Q(agency_id=organisation_id))


def tenders_for_review() -> QuerySet[Tender]:
    return Tender.objects.filter(state=TenderState.SUBMITTED).order_by("submitted_at")


def _own_or_all(queryset: QuerySet, user, tender: Tender, rule: str) -> QuerySet:
    """All of `queryset` to a user who passes `rule`; a bidder its own organisation's rows; anyone
    else none."""
    if user is None or not getattr(user, "is_authenticated", False):
        return queryset.none()
    if can(user, rule, tender):
        return queryset
    if has_role(user, "bidder") and user.organisation_id is not None:
        return queryset.filter(organisation_id=user.organisation_id)
    return queryset.none()


def registrations_visible_to(user, tender: Tender) -> QuerySet[BidderRegistration]:
    """A bidder: only its own; insiders: all, after the opening; anyone else, and insiders before
    the opening: none, not even a count (L22, E21)."""
    return _own_or_all(BidderRegistration.objects.filter(tender=tender), user, tender, "tendering.view_registrations")


def downloads_visible_to(user, tender: Tender) -> QuerySet[DocumentDownload]:
    """Download records say who obtained the documents too: as `registrations_visible_to`."""
    downloads = DocumentDownload.objects.filter(document__tender=tender)
    return _own_or_all(downloads, user, tender, "tendering.view_registrations")


def acknowledgements_visible_to(user, tender: Tender) -> QuerySet[ClarificationAck]:
    """Only registered bidders acknowledge clarifications, so who did says who registered: as
    `registrations_visible_to`."""
    acks = ClarificationAck.objects.filter(clarification__tender=tender)
    return _own_or_all(acks, user, tender, "tendering.view_registrations")


def objections_visible_to(user, tender: Tender) -> QuerySet[Objection]:
    """The owner reads every objection to answer it (R22), never its author; a bidder its own;
    centre and regulators after the opening (rule `tendering.view_objections`)."""
    return _own_or_all(Objection.objects.filter(tender=tender), user, tender, "tendering.view_objections")


def current_documents(tender: Tender) -> QuerySet[TenderDocument]:
    """The latest version of each title."""
    return TenderDocument.objects.filter(tender=tender, superseded_by__isnull=True).order_by("title")


def document_versions(tender: Tender, title: str) -> QuerySet[TenderDocument]:
    return TenderDocument.objects.filter(tender=tender, title=title).order_by("version")


def clarifications_for(tender: Tender) -> QuerySet[Clarification]:
    return Clarification.objects.filter(tender=tender).order_by("number")


def answered_questions(tender: Tender) -> QuerySet:
    """Answered questions as dicts (id, text, answer, asked_at, answered_at): the asker is never
    part of what is published."""
    return (
        Question.objects.filter(tender=tender, answered_at__isnull=False)
        .order_by("answered_at")
        .values("id", "text", "answer", "asked_at", "answered_at")
    )


def open_objections(tender: Tender) -> QuerySet[Objection]:
    return Objection.objects.filter(tender=tender, answered_at__isnull=True)


def registered_organisations(tender: Tender) -> QuerySet[Organisation]:
    """Every organisation that obtained the documents, for the platform's own work (notices, the
    opening). Never for display: what a person may see comes from `registrations_visible_to`."""
    return Organisation.objects.filter(tender_registrations__tender=tender)


def unacknowledged_organisations(clarification: Clarification) -> QuerySet[Organisation]:
    """Registered bidders that have not yet confirmed receipt of the clarification, for the
    platform's own work (reminders). Never for display before the opening: it names registered
    bidders (L22, E21)."""
    return registered_organisations(clarification.tender_id).exclude(
        pk__in=clarification.acks.values("organisation_id")
    ).order_by("name")


def clarifications_unacknowledged_by(organisation: Organisation, tender: Tender) -> QuerySet[Clarification]:
    """The clarifications of `tender` the organisation has not yet confirmed receiving."""
    return Clarification.objects.filter(tender=tender).exclude(acks__organisation=organisation).order_by("number")


def invitation_candidates(*, qualification: str = "", region_code: str = "", name_contains: str = "") -> QuerySet[Organisation]:
    """Verified bidders matching the criteria an invited tender records for its choice."""
    candidates = Organisation.objects.filter(kind=OrganisationKind.BIDDER, status=OrganisationStatus.APPROVED)
    if qualification.strip():
        candidates = candidates.filter(qualifications__icontains=qualification.strip())
    if region_code.strip():
        candidates = candidates.filter(region_code__startswith=region_code.strip())
    if name_contains.strip():
        candidates = candidates.filter(name__icontains=name_contains.strip())
    return candidates.order_by("name")


def statutory_dates(tender: Tender) -> dict:
    """The dates the rules derive from the tender's own, for display (None where not yet known)."""
    deadline = tender.bid_deadline
    issued = tender.published_at
    return {
        "earliest_bid_deadline": periods.earliest_bid_deadline(issued, tender.accelerator) if issued else None,
        "earliest_documents_offer_end": periods.earliest_documents_offer_end(issued, tender.accelerator) if issued else None,
        "objection_cutoff": periods.objection_cutoff(deadline, tender.accelerator) if deadline else None,
    }
