"""Every write about bids and bidders' keys, one function per action (see keys.py and bids.py).
Each runs in one transaction with its audit events; a refusal changes nothing."""

from bidding.services.bids import (
    bid_release_key,
    bid_upload_abandon,
    bid_upload_create,
    bid_upload_expire,
    bid_upload_finalise,
    bid_upload_put_chunk,
    bid_withdraw,
)
from bidding.services.keys import bidder_key_register, bidder_key_revoke

__all__ = [
    "bidder_key_register",
    "bidder_key_revoke",
    "bid_upload_create",
    "bid_upload_put_chunk",
    "bid_upload_finalise",
    "bid_upload_abandon",
    "bid_upload_expire",
    "bid_withdraw",
    "bid_release_key",
]
