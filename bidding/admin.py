from django.contrib import admin

from bidding.models import Bid


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
