"""Who may act on the publicity and award of a lot (docs/publicity-and-award.md). The services
decide *when* (state, periods); these rules decide *who*."""

from accounts.permissions import acting_member, is_centre_staff, is_regulator, public, rule
from tendering.models_award import NoticeState
from tendering.rules import is_insider, is_owner


@rule("tendering.draft_notice")
def draft_notice(user, tender):
    """The tenderer or its agency drafts the publicity, the result announcement and the notices."""
    return is_owner(user, tender)


@rule("tendering.approve_notice")
def approve_notice(user, notice):
    """Centre staff approve (or return) a notice before it goes out."""
    return is_centre_staff(user)


@rule("tendering.decide_award")
def decide_award(user, tender):
    """定标 is the tenderer's: the tenderer or its agency records the decision."""
    return is_owner(user, tender)


@rule("tendering.view_award")
def view_award(user, tender):
    """The lot's publicity and award workspace (drafts, objections with their authors, the decision,
    the contract): the tenderer, its agency, centre staff and regulators (read)."""
    return is_insider(user, tender)


@rule("tendering.object_to_publicity")
def object_to_publicity(user, lot):
    """A bidder or another interested party (any verified bidder organisation) objects to the
    candidates during the publicity (R54)."""
    return acting_member(user, "bidder")


@public
@rule("tendering.view_notice")
def view_notice(user, notice):
    """Issued publicity and result announcements are public; an award notice or a notice to a
    bidder is read by its recipient; insiders read every notice, drafts included."""
    if notice is None:
        return False
    if user is not None and (is_owner(user, notice.lot.tender) or is_centre_staff(user) or is_regulator(user)):
        return True
    if notice.state != NoticeState.ISSUED:
        return False
    if notice.is_public:
        return True
    return user is not None and notice.recipient_id is not None and user.organisation_id == notice.recipient_id
