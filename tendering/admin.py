"""Read-mostly admin: every change to a tender goes through `tendering/services/`, so the admin
only shows. (Changing rows here would bypass the rules and the audit trail.)"""

from django.contrib import admin
from django.db.models import Q

from audit.readonly_admin import ReadOnlyAdmin, ReadOnlyInline
from tendering.models import (
    BidderRegistration,
    Clarification,
    ClarificationAck,
    DocumentDownload,
    Invitation,
    Lot,
    Objection,
    Project,
    Question,
    Tender,
    TenderDocument,
)
from tendering.models import LotState
from tendering.rules import OPENED_LOT_STATES


def opened_tenders():
    """Tenders past their opening (see tendering.rules.is_opened; a tender whose lots were all
    cancelled stays secret here)."""
    opened = Q(lots__state__in=OPENED_LOT_STATES) | Q(lots__state=LotState.SUSPENDED, lots__suspended_from__in=OPENED_LOT_STATES)
    return Tender.objects.filter(opened).values("pk")


class SecretBeforeOpeningAdmin(ReadOnlyAdmin):
    """Who obtained the documents is secret before the opening (L22, E21), from the platform's
    operators too: rows appear here once their tender is opened."""

    tender_path = "tender"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(**{f"{self.tender_path}__in": opened_tenders()}).distinct()


class LotInline(ReadOnlyInline):
    model = Lot
    fields = ("number", "name", "maximum_price_fen", "state", "suspended_from", "state_reason")


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "tenderer", "created_at")
    search_fields = ("code", "name", "tenderer__name")


@admin.register(Tender)
class TenderAdmin(ReadOnlyAdmin):
    list_display = ("code", "title", "procedure", "tenderer", "agency", "state", "published_at", "bid_deadline", "accelerator")
    list_filter = ("state", "procedure")
    search_fields = ("code", "title", "project__name", "tenderer__name")
    date_hierarchy = "created_at"
    inlines = [LotInline]


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "state", "maximum_price_fen", "state_changed_at")
    list_filter = ("state",)
    search_fields = ("tender__code", "name")


@admin.register(TenderDocument)
class TenderDocumentAdmin(ReadOnlyAdmin):
    list_display = ("tender", "title", "version", "size", "sha256", "signing_key_id", "uploaded_at")
    search_fields = ("tender__code", "title", "sha256")


@admin.register(Clarification)
class ClarificationAdmin(ReadOnlyAdmin):
    list_display = ("tender", "number", "kind", "title", "affects_bids", "previous_deadline", "new_deadline", "issued_at")
    list_filter = ("kind", "affects_bids")


@admin.register(ClarificationAck)
class ClarificationAckAdmin(SecretBeforeOpeningAdmin):
    tender_path = "clarification__tender"
    list_display = ("clarification", "organisation", "acknowledged_at")


@admin.register(BidderRegistration)
class BidderRegistrationAdmin(SecretBeforeOpeningAdmin):
    list_display = ("tender", "organisation", "registered_at", "ip")
    search_fields = ("tender__code", "organisation__name")


@admin.register(DocumentDownload)
class DocumentDownloadAdmin(SecretBeforeOpeningAdmin):
    tender_path = "document__tender"
    list_display = ("document", "organisation", "user", "downloaded_at", "ip")


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdmin):
    list_display = ("tender", "asked_at", "answered_at")


@admin.register(Objection)
class ObjectionAdmin(SecretBeforeOpeningAdmin):
    list_display = ("tender", "organisation", "raised_at", "answer_due", "answered_at", "overdue_reported_at")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("tender", "organisation", "status", "sent_at", "replied_at")
    list_filter = ("status",)
