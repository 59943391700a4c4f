"""The opening record's statement: everything the 开标记录表 says, as one JSON object.

The PDF (opening/record_pdf.py) renders this object and nothing else, and its hash
(opening/record_signing.py) is what the bidders present sign, so the record can be checked
without the PDF. Times are UTC ("2026-03-01T01:30:00Z"), money integer fen. Layout:
docs/opening-record.md."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings

from opening.models import CheckIn, DecryptionStatus, FailureSide, OpeningSession

RECORD_TYPE = "etender-opening-record"


def utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def person_name(user) -> str:
    return (getattr(user, "display_name", "") or user.get_username()) if user is not None else ""


def _organisation(org) -> dict:
    return {"id": org.pk, "name": org.name, "credit_code": org.credit_code}


def _failure(bid_opening) -> dict | None:
    if bid_opening.status != DecryptionStatus.FAILED:
        return None
    return {
        "side": bid_opening.failure_side,
        "counted_as": "revoked" if bid_opening.failure_side == FailureSide.BIDDER else "withdrawn",  # E31
        "code": bid_opening.failure_code,
        "detail": bid_opening.failure_detail,
    }


def _bid(bid_opening) -> dict:
    bid = bid_opening.bid
    opened = bid_opening.status == DecryptionStatus.OPENED
    return {
        "bid": bid.pk,
        "bidder": _organisation(bid.bidder),
        "received_at": utc(bid.received_at),
        "sealed_sha256": bid.sha256,
        "status": bid_opening.status,
        "released_via": bid_opening.released_via,
        "failure": _failure(bid_opening),
        "price_fen": bid_opening.price_fen if opened else None,
        "price_in_words": bid_opening.price_in_words if opened else "",
        "price_in_words_fen": bid_opening.price_in_words_fen if opened else None,
        "price_mismatch": bool(bid_opening.price_mismatch) if opened else False,
        "price_prevailing_fen": bid_opening.price_prevailing_fen if opened else None,  # P19: words prevail
        "duration_days": bid_opening.duration_days if opened else None,
        "quality": bid_opening.quality if opened else "",
        "project_manager": bid_opening.project_manager if opened else "",
        "project_manager_certificate": bid_opening.project_manager_certificate if opened else "",
        "read_at": utc(bid_opening.read_at),
        "plaintext_sha256": bid_opening.plaintext_sha256 if opened else "",
    }


def _objection(objection) -> dict:
    return {
        "id": objection.pk,
        "bidder": _organisation(objection.organisation),
        "raised_by": person_name(objection.raised_by),
        "text": objection.text,
        "raised_at": utc(objection.raised_at),
        "answer": objection.answer,
        "answered_by": person_name(objection.answered_by),
        "answered_at": utc(objection.answered_at),
    }


def build_statement(session: OpeningSession, *, version: int, drafted_by, drafted_at: datetime, audit_head: tuple[int, str]) -> dict:
    """The record statement of `session` as it stands (called by the drafting service under the
    session's lock)."""
    lot, tender = session.lot, session.lot.tender
    bid_openings = list(session.bids.select_related("bid__bidder").order_by("bid__received_at", "bid_id"))
    checkins = {c.organisation_id: c for c in CheckIn.objects.filter(session=session)}
    participants = [
        {
            **_organisation(b.bid.bidder),
            "bid": b.bid_id,
            "checked_in": b.bid.bidder_id in checkins,
            "checked_in_at": utc(checkins[b.bid.bidder_id].checked_in_at) if b.bid.bidder_id in checkins else None,
        }
        for b in bid_openings
    ]
    objections = session.objections.select_related("organisation", "raised_by", "answered_by").order_by("raised_at", "pk")
    host = session.host
    return {
        "type": RECORD_TYPE,
        "v": 1,
        "version": version,
        "platform": {"region_code": settings.PLATFORM_REGION_CODE, "name": settings.PLATFORM_REGION_NAME},
        "tender": {"id": tender.pk, "code": tender.code, "title": tender.title},
        "lot": {"id": lot.pk, "number": lot.number, "name": lot.name},
        "opened_at": utc(session.opened_at),
        "host": {
            "user": host.pk if host else None,
            "name": person_name(host),
            "organisation": host.organisation.name if host is not None and host.organisation_id else "",
        },
        "decryption": {
            "started_at": utc(session.decryption_started_at),
            "window_minutes": session.window_minutes,
            "window_ends_at": utc(session.window_ends_at),
            "ended_at": utc(session.decryption_closed_at),
        },
        "participants": participants,
        "bids": [_bid(b) for b in bid_openings],
        "valid_bids": sum(1 for b in bid_openings if b.status == DecryptionStatus.OPENED),
        "objection_period": {"opened_at": utc(session.objections_opened_at), "closed_at": utc(session.objections_closed_at)},
        "objections": [_objection(o) for o in objections],
        "drafted_at": utc(drafted_at),
        "drafted_by": person_name(drafted_by),
        "audit_head": {"seq": audit_head[0], "hash": audit_head[1]},
    }
