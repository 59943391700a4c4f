"""Permission rules: report (see evaluation/rules.py). docs/evaluation-report.md.

- evaluation.expert_keys: experts, and anyone holding a serving panel seat (tenderer
  representatives), register their own report-signing key.
- evaluation.report_view: the serving panel and centre staff at any time; once the report is
  final, also the tender's tenderer and agency and regulators.
- evaluation.report_draft: the chair, a serving member.
- evaluation.report_answer: a serving member (sign or dissent).
"""

from accounts.permissions import has_role, is_centre_staff, is_regulator, rule
from tendering.rules import is_owner


def _serving(user, session):
    from evaluation.rules import serving_member

    return serving_member(user, session)


def has_seat(user) -> bool:
    from evaluation.models import MemberStatus, PanelMember

    return PanelMember.objects.filter(user=user, status__in=[MemberStatus.DRAWN, MemberStatus.CONFIRMED]).exists()


@rule("evaluation.expert_keys")
def expert_keys(user, _obj=None) -> bool:
    return has_role(user, "expert") or has_seat(user)


@rule("evaluation.report_view")
def report_view(user, session) -> bool:
    if session is None:
        return False
    if is_centre_staff(user) or _serving(user, session) is not None:
        return True
    from evaluation.models import ReportState

    final = session.reports.filter(state=ReportState.FINAL).exists()
    return final and (is_owner(user, session.lot.tender) or is_regulator(user))


@rule("evaluation.report_draft")
def report_draft(user, session) -> bool:
    member = _serving(user, session)
    return member is not None and session.chair_id == member.pk


@rule("evaluation.report_answer")
def report_answer(user, session) -> bool:
    return _serving(user, session) is not None
