"""Reads about bids that span relations."""

from bidding.models import VALID_BID_STATUSES, Bid


def count_valid_bids(lot) -> int:
    """Bids of distinct bidders still in force for the lot (received, not withdrawn/revoked)."""
    return Bid.objects.filter(lot=lot, status__in=VALID_BID_STATUSES).values("bidder").distinct().count()
