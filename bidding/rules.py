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
