"""Permission rules: the expert pool and the drawing of panels (see evaluation/rules.py).

The trading centre keeps the pool and runs every drawing on behalf of the tender (the tenderer or its
agency asks the centre, outside the platform or by phone, as centres do today); regulators read the
pool and the drawings; the tenderer and its agency see their lot's drawing record; an expert sees
only their own seats. Names of the panel stay with the centre until the result is published (R46).
"""

from accounts.permissions import is_centre_staff, is_regulator, rule
from tendering.rules import is_owner


@rule("evaluation.manage_pool")
def manage_pool(user, _obj=None) -> bool:
    """Create, edit, import and deactivate experts: centre staff only."""
    return is_centre_staff(user)


@rule("evaluation.view_pool")
def view_pool(user, _obj=None) -> bool:
    """Read the pool: centre staff, and regulators (read-only)."""
    return is_centre_staff(user) or is_regulator(user)


@rule("evaluation.request_drawing")
def request_drawing(user, _lot=None) -> bool:
    """Request and run a lot's drawing, publish its result: centre staff."""
    return is_centre_staff(user)


@rule("evaluation.publish_drawing")
def publish_drawing(user, _drawing=None) -> bool:
    return is_centre_staff(user)


def _has_seat(user, drawing) -> bool:
    return user is not None and drawing.members.filter(user=user).exists()


@rule("evaluation.view_drawing")
def view_drawing(user, drawing) -> bool:
    """The drawing record: centre, regulators, the lot's tenderer and agency, and the panel's members
    (each of whom sees only their own seat by name)."""
    if drawing is None:
        return False
    if is_centre_staff(user) or is_regulator(user):
        return True
    if is_owner(user, drawing.lot.tender):
        return True
    return _has_seat(user, drawing)


@rule("evaluation.see_panel_names")
def see_panel_names(user, drawing) -> bool:
    """Names of the panel: centre staff at any time; everyone else allowed to see the drawing once its
    result is published (R46)."""
    if drawing is None:
        return False
    if is_centre_staff(user):
        return True
    from evaluation.models import DrawingState

    return drawing.state == DrawingState.PUBLISHED and view_drawing(user, drawing)


@rule("evaluation.answer_seat")
def answer_seat(user, member) -> bool:
    """Confirm or decline one's own seat."""
    return member is not None and user is not None and member.user_id == user.pk


@rule("evaluation.replace_member")
def replace_member(user, member) -> bool:
    """Register a decline or recusal (and draw the replacement): the member themself, or centre staff
    (who take a decline by phone)."""
    if member is None:
        return False
    return is_centre_staff(user) or (user is not None and member.user_id == user.pk)

