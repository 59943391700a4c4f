"""Inbox handlers and delivery hooks of the booking area (docs/cross-region.md "Booking and assignment")."""

from crossregion.handlers import handler, on_delivered
from crossregion.services import booking, partner_drawing


@handler("booking.request")
def booking_request(*, partner, envelope, message) -> dict:
    return booking.received_request(partner=partner, body=envelope["body"])


@handler("booking.approve")
def booking_approve(*, partner, envelope, message) -> dict:
    return booking.received_approve(partner=partner, body=envelope["body"])


@handler("booking.reject")
def booking_reject(*, partner, envelope, message) -> dict:
    return booking.received_reject(partner=partner, body=envelope["body"])


@handler("booking.propose")
def booking_propose(*, partner, envelope, message) -> dict:
    return booking.received_propose(partner=partner, body=envelope["body"])


@handler("booking.accept")
def booking_accept(*, partner, envelope, message) -> dict:
    return booking.received_accept(partner=partner, body=envelope["body"])


@handler("booking.cancel")
def booking_cancel(*, partner, envelope, message) -> dict:
    return booking.received_cancel(partner=partner, body=envelope["body"])


@handler("booking.replace")
def booking_replace(*, partner, envelope, message) -> dict:
    return partner_drawing.received_replace(partner=partner, body=envelope["body"])


@on_delivered("booking.replace")
def booking_replace_delivered(*, message, result) -> None:
    booking.replacement_delivered(message=message, result=result)


@handler("booking.names")
def booking_names(*, partner, envelope, message) -> dict:
    return partner_drawing.received_names(partner=partner, body=envelope["body"])


@on_delivered("booking.names")
def booking_names_delivered(*, message, result) -> None:
    booking.names_delivered(message=message, result=result)
