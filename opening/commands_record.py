"""Room commands for objections and the opening record (opening/services/record.py). Registered
in opening/commands.py's REGISTRY by importing this module at its end. Arguments and results:
docs/opening-record.md."""

from __future__ import annotations

from django.utils.translation import gettext as _

from config.errors import DomainError
from opening import services
from opening.commands import command, hex_arg, int_arg, text_arg
from opening.record_signing import SIGNATURE_SIZE


@command("open_objections")
def _open_objections(by, session, args):
    services.opening_objections_open(by=by, session=session)
    return {}


@command("close_objections")
def _close_objections(by, session, args):
    services.opening_objections_close(by=by, session=session)
    return {}


@command("raise_objection")
def _raise_objection(by, session, args):
    objection = services.opening_objection_raise(by=by, session=session, text=text_arg(args, "text"))
    return {"objection": objection.pk}


@command("answer_objection")
def _answer_objection(by, session, args):
    objection = session.objections.filter(pk=int_arg(args, "objection")).first()
    if objection is None:
        raise DomainError(_("本开标室没有这条异议。"), code="no_such_objection")
    services.opening_objection_answer(by=by, objection=objection, text=text_arg(args, "text"))
    return {"objection": objection.pk}


@command("draft_record")
def _draft_record(by, session, args):
    record = services.opening_record_draft(by=by, session=session, response_minutes=int_arg(args, "response_minutes", required=False))
    return {"version": record.version, "sha256": record.statement_sha256, "respond_by": record.respond_by.isoformat()}


@command("confirm_record")
def _confirm_record(by, session, args):
    confirmation = services.opening_record_confirm(by=by, session=session, signature=hex_arg(args, "signature", SIGNATURE_SIZE))
    return {"version": confirmation.record.version, "key_fingerprint": confirmation.key_fingerprint}


@command("disagree_record")
def _disagree_record(by, session, args):
    confirmation = services.opening_record_disagree(by=by, session=session, text=text_arg(args, "text"))
    return {"version": confirmation.record.version}


@command("publish_record")
def _publish_record(by, session, args):
    record = services.opening_record_publish(by=by, session=session)
    return {"version": record.version, "sha256": record.statement_sha256}
