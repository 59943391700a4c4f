"""Read-only admin views of the cross-region records: every write goes through the services."""

from django.contrib import admin

from crossregion.models import Agreement, InboundMessage, OutboundMessage, Partner


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Partner)
class PartnerAdmin(ReadOnly):
    list_display = ("region_code", "name", "base_url", "key_id", "added_at")


@admin.register(Agreement)
class AgreementAdmin(ReadOnly):
    list_display = ("uuid", "partner", "state", "proposed_by_us", "valid_from", "valid_until")
    list_filter = ("state",)


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnly):
    list_display = ("received_at", "partner", "type", "idempotency_key", "nonce")
    list_filter = ("type",)


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnly):
    list_display = ("created_at", "partner", "type", "idempotency_key", "state", "attempts", "next_attempt_at")
    list_filter = ("state", "type")
