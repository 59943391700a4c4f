"""Who may do what in an opening room. Every page, API endpoint and WebSocket message of the
opening checks one of these rules; `opening/services/` decides *when* (session state, window)."""

from accounts.permissions import acting_member, has_role, is_centre_staff, is_regulator, rule
from tendering.rules import is_owner


def is_host(user, session) -> bool:
    """The tender's tenderer or agency, or centre staff, runs the opening."""
    return session is not None and (is_owner(user, session.lot.tender) or is_centre_staff(user))


def is_participant(user, session) -> bool:
    """A user of a bidder with a bid in force at the deadline (the bids the opening opens)."""
    return (
        session is not None
        and has_role(user, "bidder")
        and user.organisation_id is not None
        and session.bids.filter(bid__bidder_id=user.organisation_id).exists()
    )


@rule("opening.view")
def view(user, session):
    """Join the room and read it: the host, the bidders whose bids are opened, and supervisors
    (centre staff, regulators), who watch read-only."""
    return is_host(user, session) or is_regulator(user) or is_participant(user, session)


@rule("opening.host")
def host(user, session):
    return session is not None and (acting_member(user, "tenderer", "agency") and is_owner(user, session.lot.tender) or is_centre_staff(user))


@rule("opening.participate")
def participate(user, session):
    """Check in, release the key, raise objections, confirm the record: the bidder itself, while it
    may act."""
    return acting_member(user, "bidder") and is_participant(user, session)
