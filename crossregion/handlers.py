"""What the inbox does with each message type, and what the outbox does with each delivered one.

An area registers its handlers in crossregion/handlers_<area>.py (imported at the bottom):

    @handler("booking.request")
    def booking_request(*, partner, envelope, message) -> dict:
        ...  # runs in the inbox's transaction, with the InboundMessage row (already saved) and
        ...  # its audit event; return the JSON-able result; raise DomainError to refuse (422,
        ...  # nothing is kept, the sender's outbox marks the message failed)

    @on_delivered("booking.request")
    def booking_request_delivered(*, message, result) -> None:
        ...  # runs in the outbox's transaction that marks the OutboundMessage delivered

The inbox has already checked everything in docs/cross-region.md (signature, freshness, nonce,
agreement covering the type's area, idempotency) before a handler runs.
"""

from __future__ import annotations

from collections.abc import Callable

from crossregion import protocol

Handler = Callable[..., dict]
_HANDLERS: dict[str, Handler] = {}
_DELIVERED: dict[str, Callable[..., None]] = {}


def handler(message_type: str):
    protocol.check_type(message_type)

    def register(fn: Handler) -> Handler:
        if message_type in _HANDLERS:
            raise RuntimeError(f"cross-region handler for {message_type!r} registered twice")
        _HANDLERS[message_type] = fn
        return fn

    return register


def on_delivered(message_type: str):
    protocol.check_type(message_type)

    def register(fn):
        if message_type in _DELIVERED:
            raise RuntimeError(f"delivery hook for {message_type!r} registered twice")
        _DELIVERED[message_type] = fn
        return fn

    return register


def handler_for(message_type: str) -> Handler | None:
    return _HANDLERS.get(message_type)


def delivered_hook_for(message_type: str):
    return _DELIVERED.get(message_type)


def registered_types() -> list[str]:
    return sorted(_HANDLERS)


from crossregion import handlers_agreement  # noqa: E402,F401
from crossregion import handlers_replication  # noqa: E402,F401
from crossregion import handlers_booking  # noqa: E402,F401
