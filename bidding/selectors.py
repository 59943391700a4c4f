"""Reads about bids and bidders' keys that span relations."""

from bidding.models import VALID_BID_STATUSES, Bid, BidderKey, BidUpload, KeyStatus


def count_valid_bids(lot) -> int:
    """Bids of distinct bidders still in force for the lot (received, not withdrawn/revoked)."""
    return Bid.objects.filter(lot=lot, status__in=VALID_BID_STATUSES).values("bidder").distinct().count()


def keys_of(organisation):
    """All of the organisation's keys, active and revoked, newest registration first."""
    return BidderKey.objects.filter(organisation=organisation).select_related("registered_by", "revoked_by", "replaced_by")


def active_keys(organisation) -> dict[str, BidderKey]:
    """The organisation's keys in force, by purpose ("decryption", "signing"); empty if none."""
    return {key.purpose: key for key in BidderKey.objects.filter(organisation=organisation, status=KeyStatus.ACTIVE)}


def key_by_fingerprint(fingerprint: str) -> BidderKey | None:
    """The registered key with this fingerprint (any organisation, any status), or None."""
    if not isinstance(fingerprint, str):
        return None
    return BidderKey.objects.select_related("organisation").filter(fingerprint=fingerprint.strip().lower()).first()


def is_key_usable(fingerprint: str, organisation, purpose: str) -> bool:
    """Whether a bid may rely on this key now: it is registered to `organisation` for `purpose`
    and still active.

    Uploads call this when they finalise a sealed bid, for the key the data key is wrapped to
    (purpose "decryption") and the key that signed the header (purpose "signing"), and refuse the
    bid when it answers False: a bid sealed to or signed by a revoked key, another bidder's key,
    a key registered for the other purpose or an unknown key is not accepted."""
    if organisation is None or not isinstance(fingerprint, str):
        return False
    return BidderKey.objects.filter(
        fingerprint=fingerprint.strip().lower(), organisation=organisation, purpose=purpose, status=KeyStatus.ACTIVE
    ).exists()


def bids_of(organisation, *, lot=None):
    """The organisation's own bids, every version, newest first. Bids are secret before the opening:
    callers pass the caller's own organisation (rule bidding.view_bid)."""
    if organisation is None:
        return Bid.objects.none()
    bids = Bid.objects.filter(bidder=organisation).select_related("lot__tender", "bidder", "signing_key", "decryption_key")
    if lot is not None:
        bids = bids.filter(lot=lot)
    return bids.order_by("-received_at", "-pk")


def uploads_of(organisation, *, lot=None, status: str = ""):
    if organisation is None:
        return BidUpload.objects.none()
    uploads = BidUpload.objects.filter(bidder=organisation).select_related("lot__tender")
    if lot is not None:
        uploads = uploads.filter(lot=lot)
    if status:
        uploads = uploads.filter(status=status)
    return uploads.order_by("-created_at")
