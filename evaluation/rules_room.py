"""Permission rules: the evaluation room (see evaluation/rules.py).

Who: the serving members of THIS session's panel take part; centre staff and regulators watch
read-only; nobody else (an expert seated on another tender's panel is an outsider here). When
(the session's time window, its state, the stage) is decided by evaluation/services/room.py."""

from accounts.permissions import is_centre_staff, is_regulator, rule


def _member(user, session):
    from evaluation.rules import serving_member

    return serving_member(user, session)


def is_watcher(user) -> bool:
    """Centre staff and regulators supervise the room: they see what the panel sees, never act."""
    return is_centre_staff(user) or is_regulator(user)


@rule("evaluation.room_view")
def room_view(user, session):
    """Join the room and read it: the panel's serving members, and supervisors (centre staff,
    regulators). A recused or declined member has left the panel."""
    return session is not None and (_member(user, session) is not None or is_watcher(user))


@rule("evaluation.room_member")
def room_member(user, session):
    """Check in, vote for the chair, fill in one's own sheets: a serving member of this panel."""
    return session is not None and _member(user, session) is not None


@rule("evaluation.room_chair")
def room_chair(user, session):
    """Lock and reopen stages, reject all bids (P27): the elected chair (组长), while serving."""
    if session is None or session.chair_id is None:
        return False
    member = _member(user, session)
    return member is not None and member.pk == session.chair_id
