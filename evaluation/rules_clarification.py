"""Permission rules: clarifications during evaluation (澄清; see evaluation/rules.py).
docs/evaluation-clarifications.md.

- evaluation.clarification_panel: read a session's clarifications and answers — its serving panel
  members, and centre staff and regulators supervising.
- evaluation.clarification_ask: send a question to a bidder, and reject a bid (P21 gate in the
  service) — the chair (组长) alone, on the panel's behalf. Any member may propose a question in the
  room's discussion; one voice speaks to the bidder, so bidders never receive several versions.
- evaluation.clarification_view: read a clarification put to a bidder — that bidder's own users
  (also while suspended, to read what was asked).
- evaluation.clarification_answer: answer it — a user of that bidder while it may act. Whether the
  deadline has passed is the service's check.
"""

from accounts.permissions import acting_member, has_role, is_centre_staff, is_regulator, rule


def _serving(user, session):
    from evaluation.rules import serving_member

    return serving_member(user, session)


def _own_bidder(user, clarification) -> bool:
    return clarification is not None and has_role(user, "bidder") and user.organisation_id == clarification.bid.bidder_id


@rule("evaluation.clarification_panel")
def clarification_panel(user, session) -> bool:
    return session is not None and (_serving(user, session) is not None or is_centre_staff(user) or is_regulator(user))


@rule("evaluation.clarification_ask")
def clarification_ask(user, session) -> bool:
    if session is None or session.chair_id is None:
        return False
    member = _serving(user, session)
    return member is not None and member.pk == session.chair_id


@rule("evaluation.clarification_view")
def clarification_view(user, clarification) -> bool:
    return _own_bidder(user, clarification)


@rule("evaluation.clarification_answer")
def clarification_answer(user, clarification) -> bool:
    return acting_member(user, "bidder") and _own_bidder(user, clarification)
