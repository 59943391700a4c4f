"""Who may see and manage bidders' registered public keys. Every bidding page, API endpoint and
service checks one of these rules."""

from accounts.permissions import acting_member, has_role, is_centre_staff, is_regulator, rule


def _own_bidder(user, organisation) -> bool:
    return organisation is not None and has_role(user, "bidder") and user.organisation_id == organisation.pk


@rule("bidding.view_keys")
def view_keys(user, organisation):
    """The bidder's own users (also while it is not, or no longer, allowed to act: they still need
    to read which keys are on record), and the centre and regulators, who check which key a bid was
    sealed to. Nobody else: not tenderers, agencies, experts or other bidders."""
    return is_centre_staff(user) or is_regulator(user) or _own_bidder(user, organisation)


@rule("bidding.manage_keys")
def manage_keys(user, organisation):
    """Register, rotate and revoke: only users of a verified, not suspended bidder, for their own
    organisation. Nobody can register a key on a bidder's behalf, the centre included: whoever
    registers a key can seal and sign bids as that bidder."""
    return acting_member(user, "bidder") and _own_bidder(user, organisation)


def _registered_for(user, tender) -> bool:
    return tender is not None and tender.registrations.filter(organisation_id=user.organisation_id).exists()


@rule("bidding.submit_bid")
def submit_bid(user, lot):
    """Upload a sealed bid for a lot: users of a verified, not suspended bidder. Whether it obtained
    the tender documents (获取招标文件) and whether the lot takes bids now are the service's checks,
    so that each refusal says what is missing."""
    return acting_member(user, "bidder") and lot is not None


@rule("bidding.view_bid")
def view_bid(user, bid):
    """Before the opening a bid, its uploads and its receipt exist for its own bidder only: not the
    tenderer, the agency, the centre, regulators or other bidders (L22, E21; issue 3). Users of the
    bidder keep read access while it is suspended, to see what they submitted."""
    return bid is not None and _own_bidder(user, bid.bidder)


@rule("bidding.manage_bid")
def manage_bid(user, bid):
    """Finish, replace or withdraw: a user of the bidder itself, while it may act."""
    return bid is not None and acting_member(user, "bidder") and _own_bidder(user, bid.bidder)
