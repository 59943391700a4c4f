"""Reads about bids and bidders' keys that span relations."""

from bidding.models import VALID_BID_STATUSES, Bid, BidderKey, KeyStatus


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
