from django.contrib import admin

from bidding.models import Bid, BidderKey


@admin.register(Bid)
class BidAdmin(admin.ModelAdmin):
    """Read-only: bids change only through the bidding services."""

    list_display = ("lot", "bidder", "status", "received_at")
    list_filter = ("status",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BidderKey)
class BidderKeyAdmin(admin.ModelAdmin):
    """Read-only: keys are registered and revoked only by the bidder, through the bidding services."""

    list_display = ("organisation", "purpose", "fingerprint", "status", "registered_at", "revoked_at")
    list_filter = ("status", "purpose")
    search_fields = ("fingerprint", "organisation__name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
