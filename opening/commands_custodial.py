"""Room commands of the custodial fallback (docs/custodial-fallback.md):

- `request_fallback {bid, reason}`: the host asks for a bid to be opened with the custodial key;
- `share_package {}`: a custodian gets its wrapped share (only once a bid awaits the fallback);
- `release_share {share}`: a custodian releases its share (64 hex digits), opened on its own machine.
"""

from __future__ import annotations

from opening.commands import bid_opening_arg, command, hex_arg, text_arg
from opening.services import custodial
from opening.shamir import VALUE_BYTES


@command("request_fallback")
def _request_fallback(by, session, args):
    fallback = custodial.custodial_fallback_request(by=by, bid_opening=bid_opening_arg(session, args), reason=text_arg(args, "reason"))
    return {"bid": fallback.bid_opening.bid_id, "status": fallback.status}


@command("share_package")
def _share_package(by, session, args):
    return {"package": custodial.custodial_share_package(by=by, tender=session.lot.tender)}


@command("release_share")
def _release_share(by, session, args):
    return custodial.custodial_share_release(by=by, tender=session.lot.tender, share=hex_arg(args, "share", VALUE_BYTES))
