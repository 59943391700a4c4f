"""Commands of the opening room: what a client may ask for over the room's WebSocket (or its HTTP
fallback), by action name. Each handler parses its arguments and calls one service; the services
authorise and decide. `dispatch` makes every command idempotent by its client-chosen id
(opening/rooms.py, `run_command`).

Other modules add their commands with `@command("name")` (opening/commands_record.py for the
objections and the record, opening/commands_custodial.py for the fallback) and are imported at the
end of this module."""

from __future__ import annotations

from typing import Callable

from django.utils.translation import gettext as _

from audit.actor import Actor
from config.errors import DomainError
from opening import services
from opening.models import BidOpening, OpeningSession
from opening.rooms import CommandRegistry

Handler = Callable[[Actor, OpeningSession, dict], dict]
_commands = CommandRegistry()
REGISTRY: dict[str, Handler] = _commands.handlers
command = _commands.command  # @command("name") registers a handler in REGISTRY
dispatch = _commands.dispatch  # dispatch(*, by, session, action, command_id, args) -> the result


def text_arg(args: dict, name: str, *, limit: int = 2000, required: bool = True) -> str:
    value = args.get(name, "")
    if not isinstance(value, str) or len(value) > limit:
        raise DomainError(_("参数 %(name)s 应为不超过 %(limit)s 个字符的文本。") % {"name": name, "limit": limit}, code="bad_arguments")
    return value


def int_arg(args: dict, name: str, *, required: bool = True) -> int | None:
    value = args.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise DomainError(_("参数 %(name)s 应为整数。") % {"name": name}, code="bad_arguments")
    return value


def hex_arg(args: dict, name: str, size: int) -> bytes:
    value = args.get(name)
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else None
    except ValueError:
        raw = None
    if raw is None or len(raw) != size:
        raise DomainError(_("参数 %(name)s 应为 %(digits)s 位十六进制数。") % {"name": name, "digits": size * 2}, code="bad_arguments")
    return raw


def bid_opening_arg(session: OpeningSession, args: dict) -> BidOpening:
    bid_id = int_arg(args, "bid")
    found = session.bids.filter(bid_id=bid_id).first()
    if found is None:
        raise DomainError(_("本开标室没有这份投标文件。"), code="no_such_bid")
    return found


@command("check_in")
def _check_in(by, session, args):
    checkin = services.opening_check_in(by=by, session=session)
    return {"checked_in_at": checkin.checked_in_at.isoformat()}


@command("start_decryption")
def _start(by, session, args):
    session = services.opening_start_decryption(by=by, session=session, window_minutes=int_arg(args, "window_minutes", required=False))
    return {"window_ends_at": session.window_ends_at.isoformat()}


@command("abort")
def _abort(by, session, args):
    services.opening_abort(by=by, session=session, reason=text_arg(args, "reason"))
    return {}


@command("release_key")
def _release(by, session, args):
    services.opening_release_key(by=by, bid_opening=bid_opening_arg(session, args), data_key=hex_arg(args, "data_key", 32))
    return {}


@command("close_window")
def _close_window(by, session, args):
    services.opening_close_window(by=by, session=session)
    return {}


@command("finish")
def _finish(by, session, args):
    services.opening_finish(by=by, session=session)
    return {}


@command("fail")
def _fail(by, session, args):
    services.opening_fail(by=by, session=session, reason=text_arg(args, "reason"))
    return {}


from opening import commands_custodial  # noqa: E402,F401
from opening import commands_record  # noqa: E402,F401
