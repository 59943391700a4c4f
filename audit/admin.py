from django.contrib import admin

from audit.models import AuditEvent
from audit.readonly_admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "occurred_at", "actor_name", "role", "ip", "action", "object_type", "object_id")
    list_filter = ("action", "role")
    search_fields = ("actor_name", "action", "object_id", "ip")
