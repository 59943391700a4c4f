"""Every write to projects, tenders, lots, documents, clarifications, questions, objections and
invitations. One function per action; each runs in one transaction with its audit event, checks
who may act (`tendering/rules.py`) and every statutory rule by server time, whether or not the
chronograph has run.

The functions live in one module per concern and are all importable from here, as
`services.tender_create(...)` or `from tendering.services import tender_create`. Callers look a
service up on this package at call time, so a test may replace one here; a helper that other
services call directly must be patched in the module that uses it.
"""

from tendering.services.award import (
    award_decide,
    contract_flag_overdue,
    contract_register,
    notice_approve,
    notice_return,
    notice_revise,
    publicity_draft,
    publicity_objection_answer,
    publicity_objection_raise,
    publicity_objection_report_overdue,
    result_draft,
)
from tendering.services.lots import lot_close, lot_fail, lot_resume, lot_suspend
from tendering.services.objections import objection_answer, objection_raise, objection_report_overdue
from tendering.services.participation import (
    bidder_register,
    clarification_acknowledge,
    clarification_issue,
    document_download,
    invitation_expire,
    invitation_reply,
    invitations_set,
    question_answer,
    question_ask,
)
from tendering.services.projects import project_create, project_mandate
from tendering.services.publication import MIN_INVITEES, tender_approve, tender_publish, tender_return, tender_submit
from tendering.services.tenders import (
    FINAL_LOT_STATES,
    LOT_FIELDS,
    TENDER_FIELDS,
    lot_add,
    lot_cancel,
    lot_update,
    tender_cancel,
    tender_create,
    tender_document_upload,
    tender_update,
)

__all__ = [
    "award_decide",
    "contract_flag_overdue",
    "contract_register",
    "notice_approve",
    "notice_return",
    "notice_revise",
    "publicity_draft",
    "publicity_objection_answer",
    "publicity_objection_raise",
    "publicity_objection_report_overdue",
    "result_draft",
    "FINAL_LOT_STATES",
    "LOT_FIELDS",
    "MIN_INVITEES",
    "TENDER_FIELDS",
    "bidder_register",
    "clarification_acknowledge",
    "clarification_issue",
    "document_download",
    "invitation_expire",
    "invitation_reply",
    "invitations_set",
    "lot_add",
    "lot_cancel",
    "lot_close",
    "lot_fail",
    "lot_resume",
    "lot_suspend",
    "lot_update",
    "objection_answer",
    "objection_raise",
    "objection_report_overdue",
    "project_create",
    "project_mandate",
    "question_answer",
    "question_ask",
    "tender_approve",
    "tender_cancel",
    "tender_create",
    "tender_document_upload",
    "tender_publish",
    "tender_return",
    "tender_submit",
    "tender_update",
]
