from django.contrib import admin

from audit.readonly_admin import ReadOnlyAdmin
from bidding.models import Bid, BidderKey
from tendering.rules import OPENED_LOT_STATES

# Bids are secret before the opening, from the platform's operators too: the admin lists only the
# bids of lots past their opening.


@admin.register(Bid)
class BidAdmin(ReadOnlyAdmin):
    """Read-only: bids change only through the bidding services."""

    list_display = ("lot", "bidder", "version", "status", "received_at")
    list_filter = ("status",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(lot__state__in=OPENED_LOT_STATES)


@admin.register(BidderKey)
class BidderKeyAdmin(ReadOnlyAdmin):
    """Read-only: keys are registered and revoked only by the bidder, through the bidding services."""

    list_display = ("organisation", "purpose", "fingerprint", "status", "registered_at", "revoked_at")
    list_filter = ("status", "purpose")
    search_fields = ("fingerprint", "organisation__name")
