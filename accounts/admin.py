"""Admin: for looking things up. Organisations, changes, users and tokens are read-only here,
because their writes must go through accounts.services (permission check and audit event, E49).
The first centre is set up with `manage.py create_centre`, never with createsuperuser."""

from django.contrib import admin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiToken, Organisation, OrganisationChange, User
from audit.readonly_admin import ReadOnlyAdmin


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "credit_code", "status", "submitted_at", "reviewed_at"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "credit_code"]


@admin.register(OrganisationChange)
class OrganisationChangeAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "status", "requested_at", "reviewed_at"]
    list_filter = ["status"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["prefix", "user", "name", "created_at", "expires_at", "revoked_at"]
    exclude = ["key_hash"]


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    """No adding, no passwords, no activation, no superuser or group flags: each would change who
    may act on the platform without an audit event. Users are added and disabled by their own
    organisation's administrator (experts by the centre) on the platform's pages."""

    list_display = ["username", "display_name", "role", "organisation", "is_org_admin", "is_active"]
    list_filter = ["role", "is_active", "is_org_admin"]
    search_fields = ["username", "display_name", "organisation__name"]
    fieldsets = [
        (None, {"fields": ["username", "display_name", "email", "is_active", "last_login", "date_joined"]}),
        (_("单位与角色"), {"fields": ["organisation", "role", "is_org_admin"]}),
    ]


# The platform's permissions are its own rules (accounts.rules), not Django groups; an editable
# group page would be one more unaudited way to hand out admin permissions.
admin.site.unregister(Group)
