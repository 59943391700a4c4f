"""Read-mostly admin: every change to a tender goes through `tendering/services/`, so the admin
only shows. (Changing rows here would bypass the rules and the audit trail.)"""

from django.contrib import admin

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
class ClarificationAckAdmin(ReadOnlyAdmin):
    list_display = ("clarification", "organisation", "acknowledged_at")


@admin.register(BidderRegistration)
class BidderRegistrationAdmin(ReadOnlyAdmin):
    list_display = ("tender", "organisation", "registered_at", "ip")
    search_fields = ("tender__code", "organisation__name")


@admin.register(DocumentDownload)
class DocumentDownloadAdmin(ReadOnlyAdmin):
    list_display = ("document", "organisation", "user", "downloaded_at", "ip")


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdmin):
    list_display = ("tender", "asked_at", "answered_at")


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdmin):
    list_display = ("tender", "organisation", "raised_at", "answer_due", "answered_at", "overdue_reported_at")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("tender", "organisation", "status", "sent_at", "replied_at")
    list_filter = ("status",)
