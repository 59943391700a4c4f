"""Reads of the opening room: who the viewer is, and the room's snapshot as that viewer sees it.

The snapshot is what a client shows before it applies live events (docs/opening-room.md). It is
read *after* the room's last event number, so it is at least as new as that number: events the
client applies on top carry values it already has, and every event sets what it reports (no
increments), so applying one twice changes nothing.

Everyone in the room sees the same thing, with two exceptions: a bidder's own bid is marked and
carries its sealed header (the bidder unwraps its data key from it in the browser), and the
viewer part says what the viewer may do. No data key, plaintext or private key ever appears.

Other parts of the opening add their part of the snapshot with a function
`snapshot_part(session, user) -> dict | None` in their service module (see SNAPSHOT_PARTS); the
record's is opening.services.record.snapshot_part.
"""

from __future__ import annotations

import importlib

from django.db import transaction

from accounts.permissions import can
from opening.models import BidOpening, CheckIn, DecryptionStatus, OpeningObjection, OpeningSession, RoomEvent, SessionState
from opening.rooms import event_message
from opening.rules import is_participant

# name in the snapshot → module that may define `snapshot_part(session, user)`.
SNAPSHOT_PARTS = {
    "record": "opening.services.record",
    "custodial": "opening.services.custodial",
}

LOG_EVENTS = 200
QUIET_KINDS = ("decryption_progress",)

ROLE_HOST, ROLE_BIDDER, ROLE_SUPERVISOR = "host", "bidder", "supervisor"


def session_of_lot(lot_id: int) -> OpeningSession | None:
    return OpeningSession.objects.select_related("lot__tender").filter(lot_id=lot_id).first()


def person_name(user) -> str:
    return (getattr(user, "display_name", "") or user.get_username()) if user is not None else ""


def viewer_role(user, session: OpeningSession) -> str:
    """How the viewer is in the room: the host runs it, a bidder of the opening takes part, anyone
    else allowed in (regulators, other centre staff) watches."""
    if can(user, "opening.host", session):
        return ROLE_HOST
    if is_participant(user, session):
        return ROLE_BIDDER
    return ROLE_SUPERVISOR


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def _session_part(session: OpeningSession) -> dict:
    lot, tender = session.lot, session.lot.tender
    return {
        "id": session.pk,
        "lot": {"id": lot.pk, "number": lot.number, "name": lot.name},
        "tender": {"id": tender.pk, "code": tender.code, "title": tender.title},
        "state": session.state,
        "state_label": str(SessionState(session.state).label),
        "opened_at": _iso(session.opened_at),
        "host": person_name(session.host) if session.host_id else None,
        "window_minutes": session.window_minutes,
        "decryption_started_at": _iso(session.decryption_started_at),
        "window_ends_at": _iso(session.window_ends_at),
        "decryption_closed_at": _iso(session.decryption_closed_at),
        "objections_open": session.objections_open,
        "objections_opened_at": _iso(session.objections_opened_at),
        "objections_closed_at": _iso(session.objections_closed_at),
        "aborted_reason": session.aborted_reason,
        "finished_at": _iso(session.finished_at),
    }


def bid_row(bid_opening: BidOpening, *, own: bool) -> dict:
    """One bid as the room shows it. The price reading appears once it has been read."""
    bid = bid_opening.bid
    header = bid.header or {}
    row = {
        "bid": bid.pk,
        "organisation": bid.bidder_id,
        "bidder": bid.bidder.name,
        "received_at": _iso(bid.received_at),
        "status": bid_opening.status,
        "released_at": _iso(bid_opening.released_at),
        "released_via": bid_opening.released_via,
        "progress_bytes": bid_opening.progress_bytes,
        "ciphertext_size": header.get("ciphertext_size"),
        "plaintext_size": header.get("plaintext_size"),
        "decrypted_at": _iso(bid_opening.decrypted_at),
        "failure_side": bid_opening.failure_side,
        "failure_code": bid_opening.failure_code,
        "failure_detail": bid_opening.failure_detail,
        "read": bid_opening.read_at is not None,
        "own": own,
    }
    if bid_opening.read_at is not None:
        row.update({
            **bid_opening.price_reading(),
            "read_at": _iso(bid_opening.read_at),
        })
    if own:
        # What the bidder's browser needs to unwrap its data key with its own private key.
        row["header"] = header
    return row


def _objection_row(objection: OpeningObjection) -> dict:
    return {
        "id": objection.pk,
        "organisation": objection.organisation_id,
        "bidder": objection.organisation.name,
        "raised_by": person_name(objection.raised_by),
        "text": objection.text,
        "raised_at": _iso(objection.raised_at),
        "answer": objection.answer,
        "answered_by": person_name(objection.answered_by) if objection.answered_by_id else "",
        "answered_at": _iso(objection.answered_at),
    }


def recent_events(room: str, seq: int) -> list[dict]:
    """The room's latest events up to `seq` for the page's log (the same for everyone), without the
    progress ticks."""
    events = RoomEvent.objects.filter(room=room, seq__lte=seq).exclude(kind__in=QUIET_KINDS).order_by("-seq")[:LOG_EVENTS]
    return [event_message(event) for event in reversed(events)]


def _extra_parts(session: OpeningSession, user) -> dict:
    parts = {}
    for name, module_name in SNAPSHOT_PARTS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        part = getattr(module, "snapshot_part", None)
        if callable(part):
            parts[name] = part(session, user)
    return parts


@transaction.atomic
def room_snapshot(session: OpeningSession, user) -> tuple[dict, int]:
    """The room as `user` sees it now, and the last event number it covers (at least)."""
    session = OpeningSession.objects.select_related("lot__tender", "host").get(pk=session.pk)
    seq = session.last_seq  # read first: everything below is at least this new
    role = viewer_role(user, session)
    own_organisation = user.organisation_id if role == ROLE_BIDDER else None
    bids = list(BidOpening.objects.filter(session=session).select_related("bid__bidder").order_by("bid__received_at", "pk"))
    checkins = list(CheckIn.objects.filter(session=session).select_related("organisation").order_by("checked_in_at", "pk"))
    checked_in = {checkin.organisation_id for checkin in checkins}
    started = session.decryption_started_at
    state = {
        "session": _session_part(session),
        "viewer": {
            "role": role,
            "name": person_name(user),
            "organisation": own_organisation,
            "checked_in": own_organisation in checked_in if own_organisation else False,
            "can_host": role == ROLE_HOST,
            "can_participate": role == ROLE_BIDDER and can(user, "opening.participate", session),
        },
        "bids": [bid_row(row, own=own_organisation is not None and row.bid.bidder_id == own_organisation) for row in bids],
        "checkins": [
            {"organisation": c.organisation_id, "name": c.organisation.name, "at": _iso(c.checked_in_at),
             "late": started is not None and c.checked_in_at > started}
            for c in checkins
        ],
        "absent": [
            {"organisation": row.bid.bidder_id, "name": row.bid.bidder.name} for row in bids if row.bid.bidder_id not in checked_in
        ],
        "objections": [
            _objection_row(objection)
            for objection in OpeningObjection.objects.filter(session=session).select_related("organisation", "raised_by", "answered_by")
        ],
        "counts": {
            "bids": len(bids),
            "opened": sum(1 for row in bids if row.status == DecryptionStatus.OPENED),
            "failed": sum(1 for row in bids if row.status == DecryptionStatus.FAILED),
        },
    }
    state["log"] = recent_events(session.room, seq)
    state.update(_extra_parts(session, user))
    return state, seq
