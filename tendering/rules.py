"""Who may do what with tenders. Every page, API endpoint and (later) WebSocket message of the
tendering app checks one of these rules."""

from accounts.permissions import acting_member, has_role, is_centre_staff, public, rule
from tendering.models import TenderState


def is_owner(user, tender) -> bool:
    """A verified member of the tender's tenderer or of its agency."""
    if tender is None or not acting_member(user, "tenderer", "agency"):
        return False
    return user.organisation_id in (tender.tenderer_id, tender.agency_id)


def is_insider(user, tender) -> bool:
    """May see the tender's confidential data (registrations, downloads) before the opening."""
    return is_owner(user, tender) or is_centre_staff(user) or has_role(user, "regulator")


@rule("tendering.create_tender")
def create_tender(user, obj):
    return acting_member(user, "tenderer", "agency")


@rule("tendering.manage_tender")
def manage_tender(user, tender):
    return is_owner(user, tender)


@rule("tendering.review_tender")
def review_tender(user, tender):
    return is_centre_staff(user)


@public
@rule("tendering.view_tender")
def view_tender(user, tender):
    if tender is not None and tender.state == TenderState.PUBLISHED:
        return True
    if user is None:
        return False
    return is_insider(user, tender) or (tender is not None and tender.state == TenderState.CANCELLED and tender.published_at is not None)


@rule("tendering.view_registrations")
def view_registrations(user, tender):
    return is_insider(user, tender)


@rule("tendering.take_part")
def take_part(user, tender):
    """Register, download, ask, object, acknowledge: a verified bidder."""
    return acting_member(user, "bidder")
