"""Commands of the evaluation room: what a client may ask for over the room's WebSocket, by action
name (docs/evaluation-room.md). Each handler parses its arguments and calls one service in
evaluation/services/room.py; the services authorise and decide. `dispatch` makes every command
idempotent by its client-chosen id (opening/rooms.py, `run_command`).

A member only ever acts on their own sheet: the services take the member from the signed-in user,
and a command naming a member (seat/member/expert) is refused rather than silently ignored."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _

from audit.actor import Actor
from config.errors import DomainError
from evaluation.models import EvaluationSession
from evaluation.services import room
from evaluation.services import room_stages as stages
from opening.rooms import CommandRegistry

Handler = Callable[[Actor, EvaluationSession, dict], dict]
SOMEONE_ELSE = ("seat", "member", "expert", "user", "voter")
_commands = CommandRegistry()
REGISTRY: dict[str, Handler] = _commands.handlers
command = _commands.command  # @command("name") registers a handler in REGISTRY
dispatch = _commands.dispatch  # dispatch(*, by, session, action, command_id, args) -> the result


def text_arg(args: dict, name: str, *, limit: int = 2000) -> str:
    value = args.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise DomainError(_("参数 %(name)s 应为不超过 %(limit)s 个字符的文本。") % {"name": name, "limit": limit}, code="bad_arguments")
    return value


def int_arg(args: dict, name: str) -> int:
    value = args.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise DomainError(_("参数 %(name)s 应为整数。") % {"name": name}, code="bad_arguments")
    return value


def own_sheet_only(args: dict) -> None:
    if any(key in args for key in SOMEONE_ELSE):
        raise DomainError(_("只能填写自己的评审表：不能代其他成员提交或修改。"), code="not_own_sheet")


def stage_arg(args: dict) -> str:
    value = args.get("stage")
    if not isinstance(value, str) or len(value) > 32:
        raise DomainError(_("参数 stage 应为评审阶段名称。"), code="bad_arguments")
    return value


@command("check_in")
def _check_in(by, session, args):
    own_sheet_only(args)
    if not isinstance(args.get("pledge", False), bool):
        raise DomainError(_("参数 pledge 应为 true 或 false。"), code="bad_arguments")
    member = room.check_in(by=by, session=session, pledge=args.get("pledge", False), conflict=text_arg(args, "conflict"))
    return {"seat": member.seat, "status": member.status}


@command("declare_conflict")
def _declare_conflict(by, session, args):
    own_sheet_only(args)
    member = room.declare_conflict(by=by, session=session, conflict=text_arg(args, "conflict"))
    return {"seat": member.seat, "status": member.status}


@command("vote_chair")
def _vote_chair(by, session, args):
    seat = int_arg(args, "candidate")
    candidate = next((m for m in stages.serving_members(session) if m.seat == seat), None)
    if candidate is None:
        raise DomainError(_("没有这个席位的评标委员会成员。"), code="bad_candidate")
    vote = room.vote_chair(by=by, session=session, candidate=candidate)
    return {"round": vote.round, "candidate": seat}


@command("submit_verdict")
def _submit_verdict(by, session, args):
    own_sheet_only(args)
    verdict = room.submit_verdict(by=by, session=session, bid=int_arg(args, "bid"), criterion=text_arg(args, "criterion", limit=16),
                                  value=args.get("passed"), reason=text_arg(args, "reason"))
    return {"bid": verdict.bid_id, "criterion": verdict.criterion, "passed": verdict.passed, "reason": verdict.reason}


@command("submit_score")
def _submit_score(by, session, args):
    own_sheet_only(args)
    score = room.submit_score(by=by, session=session, bid=int_arg(args, "bid"), criterion=text_arg(args, "criterion", limit=16),
                              value=args.get("value"), reason=text_arg(args, "reason"))
    return {"bid": score.bid_id, "criterion": score.criterion, "value": str(score.value), "reason": score.reason}


@command("lock_stage")
def _lock_stage(by, session, args):
    stage = room.lock_stage(by=by, session=session, stage_kind=stage_arg(args))
    return {"stage": stage.kind}


@command("reopen_stage")
def _reopen_stage(by, session, args):
    reopening = room.reopen_stage(by=by, session=session, stage_kind=stage_arg(args), reason=text_arg(args, "reason"))
    return {"stage": reopening.stage.kind, "reopening": reopening.pk}


@command("reject_all")
def _reject_all(by, session, args):
    room.reject_all(by=by, session=session, reason=text_arg(args, "reason"))
    return {}
