"""Who may do what with tenders. Every page, API endpoint and (later) WebSocket message of the
tendering app checks one of these rules. They decide *who*; `tendering/services/` decides
*when* (state and statutory deadlines)."""

from accounts.permissions import acting_member, is_centre_staff, is_regulator, public, rule
from tendering.models import TenderState


def is_owner(user, tender) -> bool:
    """A verified member of the tender's tenderer or of its agency."""
    if tender is None or not acting_member(user, "tenderer", "agency"):
        return False
    return user.organisation_id in (tender.tenderer_id, tender.agency_id)


def is_insider(user, tender) -> bool:
    """May see the tender's confidential data (registrations, downloads) before the opening."""
    return is_owner(user, tender) or is_centre_staff(user) or is_regulator(user)


def is_registered(user, tender) -> bool:
    """The user's organisation obtained the tender documents (获取招标文件)."""
    return (
        tender is not None
        and user is not None
        and user.organisation_id is not None
        and tender.registrations.filter(organisation_id=user.organisation_id).exists()
    )


@rule("tendering.create_project")
def create_project(user, tenderer):
    """Only a verified tenderer's users create projects, and only for their own organisation
    (given it); the tenderer may mandate an agency (委托代理) for the project."""
    if not acting_member(user, "tenderer"):
        return False
    return tenderer is None or tenderer.pk == user.organisation_id


@rule("tendering.create_tender")
def create_tender(user, project):
    """A verified tenderer or agency. Given a project: a tenderer's user for its own projects, an
    agency's user only for projects that mandate its organisation."""
    if not acting_member(user, "tenderer", "agency"):
        return False
    if project is None:
        return True
    if user.role == "tenderer":
        return project.tenderer_id == user.organisation_id
    return project.agency_id is not None and project.agency_id == user.organisation_id


@rule("tendering.manage_tender")
def manage_tender(user, tender):
    return is_owner(user, tender)


@rule("tendering.cancel_tender")
def cancel_tender(user, tender):
    """The tenderer or its agency, or the centre (终止 on supervision)."""
    return is_owner(user, tender) or is_centre_staff(user)


@rule("tendering.review_tender")
def review_tender(user, tender):
    return is_centre_staff(user)


@public
@rule("tendering.view_tender")
def view_tender(user, tender):
    """Published tenders, and tenders cancelled after publication (the cancellation is public
    too), are open to everyone; drafts and reviews only to insiders."""
    if tender is not None and tender.state == TenderState.PUBLISHED:
        return True
    if tender is not None and tender.state == TenderState.CANCELLED and tender.published_at is not None:
        return True
    return user is not None and is_insider(user, tender)


@rule("tendering.view_registrations")
def view_registrations(user, tender):
    return is_insider(user, tender)


@rule("tendering.take_part")
def take_part(user, tender):
    """Register, download, ask, object, acknowledge: a verified bidder."""
    return acting_member(user, "bidder")


@rule("tendering.reply_invitation")
def reply_invitation(user, invitation):
    return invitation is not None and acting_member(user, "bidder") and user.organisation_id == invitation.organisation_id


@rule("tendering.download_document")
def download_document(user, document):
    """Insiders, and verified bidders that obtained the tender documents."""
    if document is None:
        return False
    tender = document.tender
    return is_insider(user, tender) or (acting_member(user, "bidder") and is_registered(user, tender))
