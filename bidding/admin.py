from django.contrib import admin

from audit.readonly_admin import ReadOnlyAdmin
from bidding.models import Bid, BidderKey


@admin.register(Bid)
class BidAdmin(ReadOnlyAdmin):
    """Read-only: bids change only through the bidding services."""

    list_display = ("lot", "bidder", "status", "received_at")
    list_filter = ("status",)


@admin.register(BidderKey)
class BidderKeyAdmin(ReadOnlyAdmin):
    """Read-only: keys are registered and revoked only by the bidder, through the bidding services."""

    list_display = ("organisation", "purpose", "fingerprint", "status", "registered_at", "revoked_at")
    list_filter = ("status", "purpose")
    search_fields = ("fingerprint", "organisation__name")
