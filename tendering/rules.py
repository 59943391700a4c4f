"""Who may do what with tenders. Every page, API endpoint and (later) WebSocket message of the
tendering app checks one of these rules. They decide *who*; `tendering/services/` decides
*when* (state and statutory deadlines)."""

from django.db.models import Q

from accounts.permissions import acting_member, is_centre_staff, is_regulator, public, rule
from audit.selectors import tender_timeline
from tendering.models import LotState, TenderState

# A lot in one of these states has been opened (or, for failed, its procedure ended after the
# bid deadline): see `is_opened`.
OPENED_LOT_STATES = (
    LotState.OPENING, LotState.EVALUATING, LotState.PUBLICIZING, LotState.AWARDED, LotState.CONTRACTED, LotState.FAILED,
)


def is_owner(user, tender) -> bool:
    """A verified member of the tender's tenderer or of its agency."""
    if tender is None or not acting_member(user, "tenderer", "agency"):
        return False
    return user.organisation_id in (tender.tenderer_id, tender.agency_id)


def is_insider(user, tender) -> bool:
    """The tenderer, its agency, centre staff and regulators: they see drafts and, once the tender
    is opened (`is_opened`), who obtained the documents; before the opening they see no more of
    that than the public (`view_registrations`)."""
    return is_owner(user, tender) or is_centre_staff(user) or is_regulator(user)


def is_opened(tender) -> bool:
    """The tender is past its opening: some lot has reached the opening or a later state.
    Registrations are per tender, not per lot, so the first lot opened ends the secret for all.

    - opening, evaluating, publicizing, awarded, contracted: opened;
    - failed (流标): counts as opened. A lot fails only from closed, opening or evaluating, so
      always after the bid deadline, when no bid can be added or changed any more; with fewer
      than 3 bids the opening never comes (L28, R44) and the lot's procedure is over;
    - suspended: counts as the state it was suspended from;
    - closed (截标): not yet; the opening starts at the deadline itself (L34, E29), so this lasts
      only until the opening starts;
    - cancelled (终止): the state does not say whether the lot had been opened, so the audit
      trail decides (a `lot.start_opening` transition recorded for the tender); without one the
      secret is kept.
    Draft, published and cancelled-before-opening lots keep the tender "before the opening"."""
    if tender is None or tender.pk is None:
        return False
    opened = Q(state__in=OPENED_LOT_STATES) | Q(state=LotState.SUSPENDED, suspended_from__in=OPENED_LOT_STATES)
    if tender.lots.filter(opened).exists():
        return True
    cancelled = tender.lots.filter(state=LotState.CANCELLED).exists()
    return cancelled and tender_timeline(tender.pk).filter(action="lot.start_opening").exists()


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
    """Who obtained the documents (registrations, download records, who acknowledged a
    clarification): nobody may list, count or read them before the opening (L22, E21), not the
    tenderer, its agency, the centre or a regulator, and no other bidder; each bidder sees only its
    own (the selectors). After the opening (`is_opened`: a lot at opening or later, failed after
    the deadline, or opened and then cancelled) insiders see them all. The platform itself
    (notifications, the chronograph) reads them without this rule."""
    return is_insider(user, tender) and is_opened(tender)


@rule("tendering.view_objections")
def view_objections(user, tender):
    """Objections to the tender documents (R22): the tenderer and its agency must answer them, so
    they read every objection's text, before the opening too, but no page or API names its
    author (the platform sends the answer to it). Centre staff and regulators read them after the
    opening. Each bidder reads its own (the selectors). Questions work alike: the owner answers
    their texts on its workspace, the answers are published, the asker is never shown."""
    return is_owner(user, tender) or view_registrations(user, tender)


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
