"""公告: the public announcement list and the announcement detail page (which also carries the
signed-in bidder's actions)."""

from __future__ import annotations

from collections import defaultdict

from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.permissions import can
from tendering import selectors, selectors_award
from tendering.forms import AnnouncementFilterForm, ObjectionForm, QuestionForm
from tendering.models import ClarificationAck, Invitation, InvitationStatus, LotState, TenderState
from tendering.views._common import tender_for, with_yuan

PAGE_SIZE = 20
AWARD_LOT_STATES = (LotState.EVALUATING, LotState.PUBLICIZING, LotState.AWARDED, LotState.CONTRACTED)


def announcements(request):
    form = AnnouncementFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    tenders = selectors.public_announcements(
        q=filters.get("q", ""),
        state=filters.get("state", ""),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    ).select_related("project", "tenderer").prefetch_related("lots")
    page = Paginator(tenders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "tendering/announcements.html", {"form": form, "page": page})


def _version_history(tender) -> dict[str, list]:
    history = defaultdict(list)
    for document in tender.documents.order_by("title", "-version"):
        history[document.title].append(document)
    return history


def detail(request, pk: int):
    tender = tender_for(request, pk, "tendering.view_tender")
    user = request.user
    history = _version_history(tender)
    documents = list(selectors.current_documents(tender))
    for document in documents:
        document.older_versions = [old for old in history[document.title] if old.pk != document.pk]
        document.downloadable = can(user, "tendering.download_document", document)
    context = {
        "tender": tender,
        "lots": with_yuan(tender.lots.all()),
        "documents": documents,
        "clarifications": selectors.clarifications_for(tender),
        "questions": selectors.answered_questions(tender),
        "objection_cutoff": selectors.statutory_dates(tender)["objection_cutoff"],
        "is_owner": can(user, "tendering.manage_tender", tender),
        # L22/E21: who obtained the documents, for insiders after the opening only.
        "can_view_registrations": can(user, "tendering.view_registrations", tender),
        "can_cancel": tender.state != TenderState.CANCELLED and can(user, "tendering.cancel_tender", tender),
        "is_bidder": can(user, "tendering.take_part", tender),
        # Publicity and award: issued announcements for everyone, a bidder's own notices, all for insiders.
        "award_notices": selectors_award.notices_visible_to(user, tender),
        "award_lots": [lot for lot in tender.lots.all() if lot.state in AWARD_LOT_STATES or lot.suspended_from in AWARD_LOT_STATES]
        if can(user, "tendering.view_award", tender) else [],
    }
    if user.is_authenticated:
        # L22/E21: the selectors show a bidder only its own rows, insiders every row once the
        # tender is opened and anyone else (insiders before the opening too) nothing, so this page
        # never tells who else obtained the documents, nor how many did.
        context["registrations"] = selectors.registrations_visible_to(user, tender)
        context["downloads"] = selectors.downloads_visible_to(user, tender)
        context["objections"] = selectors.objections_visible_to(user, tender)
        context["evaluation_links"] = _evaluation_links(user, context["lots"])
    if context["is_bidder"]:
        context.update(_bidder_context(user.organisation, tender, context["registrations"]))
    return render(request, "tendering/detail.html", context)


def _evaluation_links(user, lots) -> list[dict]:
    """Per lot, the evaluation pages this user may open: the drawing record, the room, the report,
    or (centre staff) the drawing request while the lot has none."""
    from evaluation.models import Drawing, DrawingState, EvaluationSession

    links = []
    for lot in lots:
        drawing = Drawing.objects.filter(lot=lot).exclude(state=DrawingState.REFUSED).order_by("-requested_at").first()
        session = EvaluationSession.objects.filter(lot=lot).select_related("drawing", "lot__tender").first()
        entry = {
            "lot": lot,
            "request_drawing": drawing is None and lot.state in ("closed", "opening", "evaluating") and can(user, "evaluation.request_drawing", lot),
            "drawing": drawing if drawing is not None and can(user, "evaluation.view_drawing", drawing) else None,
            "room": session is not None and can(user, "evaluation.room_view", session),
            "report": session is not None and session.reports.exists() and can(user, "evaluation.report_view", session),
        }
        if entry["request_drawing"] or entry["drawing"] or entry["room"] or entry["report"]:
            links.append(entry)
    return links


def _bidder_context(organisation, tender, registrations) -> dict:
    """What the signed-in bidder's own panel needs: its registration, acknowledgements, invitation."""
    acknowledged = ClarificationAck.objects.filter(organisation=organisation, clarification__tender=tender)
    invitation = Invitation.objects.filter(tender=tender, organisation=organisation).exclude(status=InvitationStatus.DRAFT)
    return {
        "my_registration": next((r for r in registrations if r.organisation_id == organisation.pk), None),
        "acknowledged": set(acknowledged.values_list("clarification_id", flat=True)),
        "invitation": invitation.first(),
        "question_form": QuestionForm(prefix="question"),
        "objection_form": ObjectionForm(prefix="objection"),
    }
