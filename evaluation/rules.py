"""Who may do what in evaluation. Base predicates here; the rules of each area are registered in
rules_<area>.py, imported below, so all of the app's access policy sits in these files."""

from accounts.permissions import acting_member, has_role, is_centre_staff, is_regulator  # noqa: F401
from tendering.rules import is_owner  # noqa: F401


def serving_member(user, session):
    """The user's serving seat on the session's panel, or None. A declined or recused member has no
    seat any more."""
    if user is None or session is None or not getattr(user, "is_authenticated", False):
        return None
    from evaluation.models import MemberStatus

    return (
        session.drawing.members.filter(user=user, status__in=[MemberStatus.DRAWN, MemberStatus.CONFIRMED])
        .select_related("expert")
        .first()
    )


from evaluation import rules_pool, rules_room, rules_report, rules_clarification  # noqa: E402,F401
