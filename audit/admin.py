from django.contrib import admin
from django.db.models import Q

from audit.models import AuditEvent
from audit.readonly_admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only. Until a tender is opened, its events that reveal who takes part (anything a bidder
    did, and every bid event) are not listed here: bidders are secret before the opening (L22,
    E21), from the platform's operators too. The chain itself keeps them; `audit_verify` covers all."""

    list_display = ("seq", "occurred_at", "actor_name", "role", "ip", "action", "object_type", "object_id")
    list_filter = ("action", "role")
    search_fields = ("actor_name", "action", "object_id", "ip")

    def get_queryset(self, request):
        from tendering.admin import opened_tenders

        reveals_bidders = Q(role="bidder") | Q(action__startswith="bid.")
        secret = Q(tender_id__isnull=False) & reveals_bidders & ~Q(tender_id__in=opened_tenders())
        return super().get_queryset(request).exclude(secret)
