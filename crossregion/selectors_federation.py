"""At home: the away seats our experts hold at partner platforms ("我的异地评标").

A seat is one of the `seats` of the signed assignment (etender-assignment/1) of an APPROVED booking
in which we are the partner (crossregion/models_booking.py, role "partner"): it names the expert by
the pool's pseudonymous Expert.public_id. The host's lot id (Booking.lot_ref) is the federation
token's "session". An expert sees, and may enter, only seats that name their own public_id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crossregion import protocol
from crossregion.models import Partner


@dataclass(frozen=True)
class AwaySeat:
    partner: Partner           # the host platform
    session: str               # the host's session reference: its lot id (the token's "session")
    booking: object            # the Booking (role partner)
    title: str = ""            # the host's tender and lot, as the booking named them
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    specialty: str = ""

    @property
    def key(self) -> str:
        return str(self.booking.uuid)


def expert_subject(user) -> str | None:
    """The token's "sub" for our expert: the pool expert's pseudonymous public_id."""
    if not getattr(user, "is_authenticated", False):
        return None
    expert = getattr(user, "expert", None)
    return str(expert.public_id) if expert is not None else None


def _seat_of(booking, subject: str) -> dict | None:
    document = (booking.assignment or {}).get("document") or {}
    return next((seat for seat in document.get("seats") or [] if isinstance(seat, dict) and seat.get("expert") == subject), None)


def away_seats(user) -> list[AwaySeat]:
    subject = expert_subject(user)
    if subject is None:
        return []
    from crossregion.models_booking import Booking, BookingRole, BookingState

    seats = []
    bookings = Booking.objects.select_related("partner").filter(role=BookingRole.PARTNER, state=BookingState.APPROVED)
    for booking in bookings.order_by("starts_at", "pk"):
        seat = _seat_of(booking, subject)
        if seat is None:
            continue
        document = booking.assignment["document"]
        session = document.get("session") or {}
        seats.append(AwaySeat(
            partner=booking.partner, session=str(document.get("lot") or booking.lot_ref), booking=booking,
            title=" ".join(part for part in (booking.tender_code, booking.tender_title, booking.lot_label) if part),
            starts_at=_time(session.get("starts_at")) or booking.starts_at, ends_at=_time(session.get("ends_at")) or booking.ends_at,
            specialty=seat.get("specialty", ""),
        ))
    return seats


def _time(text) -> datetime | None:
    try:
        return protocol.parse_time(text) if text else None
    except protocol.ProtocolError:
        return None


def away_seat(user, *, key: str) -> AwaySeat | None:
    """`user`'s own seat in the booking `key` (its uuid), or None."""
    return next((seat for seat in away_seats(user) if seat.key == key), None)
