"""Projects: a tenderer's own project and the agency it mandates (委托代理)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Organisation, OrganisationKind
from accounts.permissions import require
from audit.actor import Actor
from audit.services import record_event
from config.errors import DomainError
from tendering.models import EDITABLE_TENDER_STATES, Project, Tender
from tendering.money import is_valid_fen
from tendering.services._common import _text


def _check_mandate(agency: Organisation | None) -> None:
    """委托代理: the agency a tenderer mandates must be a verified, active agency."""
    if agency is not None and (agency.kind != OrganisationKind.AGENCY or not agency.can_act):
        raise DomainError(_("委托代理机构必须是已核验且未被暂停的招标代理机构。"))


@transaction.atomic
def project_create(
    *, by: Actor, tenderer: Organisation, code: str, name: str, location: str = "", approval_number: str = "",
    investment_fen: int | None = None, funding_source: str = "", agency: Organisation | None = None,
) -> Project:
    """A tenderer's own project, optionally mandating an agency (委托代理) to run its tenders."""
    require(by.user, "tendering.create_project", tenderer)
    if tenderer.kind != OrganisationKind.TENDERER or not tenderer.can_act:
        raise DomainError(_("招标人必须是已核验的招标人单位。"))
    _check_mandate(agency)
    code = _text(code, _("项目编号不能为空。"))
    name = _text(name, _("项目名称不能为空。"))
    if investment_fen is not None and not is_valid_fen(investment_fen):
        raise DomainError(_("总投资必须是不超过平台上限的非负整数（单位：分）。"))
    if Project.objects.filter(code=code).exists():
        raise DomainError(_("项目编号已存在。"), code="duplicate")
    project = Project.objects.create(
        tenderer=tenderer, agency=agency, code=code, name=name, location=location.strip(), approval_number=approval_number.strip(),
        investment_fen=investment_fen, funding_source=funding_source.strip(),
    )
    record_event(by=by, action="project.create", obj=project, payload={"code": code, "name": name, "tenderer": tenderer.pk, "agency": agency.pk if agency else None})
    return project


@transaction.atomic
def project_mandate(*, by: Actor, project: Project, agency: Organisation | None) -> Project:
    """The tenderer changes (or withdraws) the project's mandated agency. Tenders still being
    drafted follow the mandate; tenders already submitted or published keep the agency they had."""
    require(by.user, "tendering.create_project", project.tenderer)
    project = Project.objects.select_for_update().get(pk=project.pk)
    _check_mandate(agency)
    previous = project.agency_id
    project.agency = agency
    project.save(update_fields=["agency"])
    drafts = list(project.tenders.select_for_update().filter(state__in=EDITABLE_TENDER_STATES).values_list("pk", flat=True))
    Tender.objects.filter(pk__in=drafts).update(agency=agency)
    record_event(by=by, action="project.mandate", obj=project, payload={"from": previous, "to": agency.pk if agency else None, "tenders": drafts})
    return project
