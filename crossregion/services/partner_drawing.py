"""The partner platform's side of a booking: approve (draw the seats from our own pool and send the
signed assignment), reject, propose a change; replace an away expert who declined at the host.

The drawing is evaluation/drawing.py's, recorded like a lot's (evaluation/services/drawing.py):
eligibility with recusal against the bidders, tenderer and agency the host named (P12), the
request and sorted eligible pool stored verbatim, `crossregion.partner_drawing_commit` with the seed's
SHA-256 and the request+pool context hash recorded before `crossregion.partner_drawing_draw`, and
each replacement a new round. The host's other seats travel in the request as remote_experts, so
the panel rules (odd, >= 5, experts >= 2/3, L37) are checked over the whole panel. The drawn experts
are reserved for the session (ExpertUnavailability), so no local drawing seats them at the same time.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require
from audit.actor import Actor
from audit.services import record_event
from config.errors import DomainError
from crossregion import booking_protocol as bp
from crossregion import protocol
from crossregion.identity import own_region, partner_actor, sign_document
from crossregion.models import Booking, BookingRole, BookingState, Partner, PartnerDrawing
from crossregion.services import outbox
from crossregion.services.booking import (
    _answer,
    _expect,
    _key,
    _lock,
    _note,
    _received,
    _terms,
    _transition,
    check_whole_panel,
    clean_terms,
    whole_panel_request,
)
from evaluation import drawing as algorithm
from evaluation.models import Expert, ExpertKey, ExpertUnavailability


def _request(booking: Booking) -> algorithm.DrawingRequest:
    return whole_panel_request(tender_code=booking.tender_code, lot_ref=booking.lot_ref, terms=_terms(booking), panel=booking.panel)


def _refused(refused: algorithm.DrawingRefused) -> DomainError:
    text = "；".join(_(r.template) % r.params if r.params else _(r.template) for r in refused.reasons)
    return DomainError(_("无法按此条件抽取：%(reasons)s") % {"reasons": text}, code="drawing_refused")


def _reserve(booking: Booking, experts) -> None:
    for expert in experts:
        ExpertUnavailability.objects.create(expert=expert, starts_at=booking.starts_at, ends_at=booking.ends_at,
                                            reason=_("异地评标（场地预约 %(booking)s）") % {"booking": booking.uuid})


def release(booking: Booking, experts=None) -> None:
    """The booking's reservations of our experts end (cancelled; or the given experts replaced)."""
    rows = ExpertUnavailability.objects.filter(reason__contains=str(booking.uuid))
    if experts is not None:
        rows = rows.filter(expert__in=list(experts))
    rows.delete()


def _public_jwk(expert: Expert) -> dict | None:
    if expert.user_id is None:
        return None
    key = ExpertKey.objects.filter(user_id=expert.user_id, revoked_at__isnull=True).first()
    return dict(key.public_jwk) if key else None


def current_seats(drawing: PartnerDrawing) -> list[dict]:
    """The seats after every round: [{"specialty", "expert", "round"}] in seat order."""
    rounds = [algorithm.Round.from_json(data) for data in drawing.rounds]
    seats = algorithm.panel(rounds)
    round_of = {}
    for number, round_ in enumerate(rounds):
        for pick in round_.picks:
            round_of[pick.expert] = number
    return [{"specialty": pick.specialty, "expert": pick.expert, "round": round_of[pick.expert]} for pick in seats]


def signed_assignment(booking: Booking, drawing: PartnerDrawing, version: int) -> dict:
    """The assignment document for the host, signed with our platform key: per seat the expert's
    pseudonymous id (Expert.public_id), specialty, round and registered signing public key (JWK);
    the drawing's id, seed commitment and context hash. Names are not sent (they come at the result)."""
    seats = current_seats(drawing)
    experts = {str(e.public_id): e for e in Expert.objects.filter(public_id__in=[s["expert"] for s in seats])}
    request = algorithm.DrawingRequest.from_json(drawing.request_json)
    doc = bp.build_assignment(
        booking=str(booking.uuid), version=version, host=booking.partner.region_code, partner=own_region(), lot=booking.lot_ref,
        starts_at=protocol.format_time(booking.starts_at), ends_at=protocol.format_time(booking.ends_at),
        drawing={"id": drawing.pk, "algorithm": algorithm.VERSION, "commitment": drawing.seed_commitment,
                 "context": algorithm.context_hash(request, drawing.eligible), "request": drawing.request_json},
        seats=[{**seat, "public_jwk": _public_jwk(experts[seat["expert"]])} for seat in seats],
        issued_at=protocol.format_time(timezone.now()),
    )
    return sign_document(doc)


@transaction.atomic
def booking_approve(*, by: Actor, booking: Booking) -> Booking:
    """Our centre staff approve the host's request: the seats are drawn from our pool (commitment
    recorded before the draw), the experts reserved, the signed assignment sent (booking.approve).
    Refused with the reasons, nothing stored, if the whole panel's rules or our pool cannot fill it."""
    from evaluation.services.drawing import eligibility_for

    booking = _lock(booking)
    require(by.user, "crossregion.manage", booking.partner)
    _expect(booking, BookingRole.PARTNER, [BookingState.REQUESTED], _("同意"))
    if booking.starts_at <= timezone.now():
        raise DomainError(_("评标时段已开始，不能再同意。"), code="session_time")
    if PartnerDrawing.objects.filter(booking=booking).exists():
        raise DomainError(_("该预约已抽取。"), code="already_drawn")
    from crossregion.selectors import valid_agreement

    if valid_agreement(booking.partner, area="drawing") is None:
        raise DomainError(_("与%(partner)s没有有效的合作框架协议（范围：%(area)s）。") % {"partner": booking.partner.name, "area": "drawing"},
                          code="no_agreement")
    request = _request(booking)
    check_whole_panel(request)
    bidders, tenderer = bp.recusal_codes(booking.parties)
    pool, excluded = eligibility_for(request, bidders=bidders, tenderer=tenderer, starts_at=booking.starts_at, ends_at=booking.ends_at)
    try:
        algorithm.draw(bytes(algorithm.SEED_BYTES), request, pool)  # feasibility does not depend on the seed
    except algorithm.DrawingRefused as refused:
        raise _refused(refused) from None
    seed = algorithm.new_seed()
    drawing = PartnerDrawing.objects.create(
        booking=booking, seed_commitment=algorithm.seed_commitment(seed), seed_hex=seed.hex(), request_json=request.to_json(),
        eligible=pool, excluded=excluded, drawn_by=by.user, drawn_at=timezone.now(),
    )
    from evaluation.services.drawing import exclusion_counts

    record_event(by=by, action="crossregion.partner_drawing_commit", obj=drawing, payload={
        "version": algorithm.VERSION, "booking": str(booking.uuid), "host": booking.partner.region_code,
        "commitment": drawing.seed_commitment, "context": algorithm.context_hash(request, pool), "request": request.to_json(),
        "eligible_counts": {specialty: len(ids) for specialty, ids in pool.items()}, "excluded_counts": exclusion_counts(excluded),
    })
    first = algorithm.draw(seed, request, pool)
    drawing.rounds = [first.to_json()]
    drawing.save(update_fields=["rounds"])
    record_event(by=by, action="crossregion.partner_drawing_draw", obj=drawing, payload={
        "booking": str(booking.uuid), "commitment": drawing.seed_commitment, "rounds": drawing.rounds,
    })
    _reserve(booking, Expert.objects.filter(public_id__in=[pick.expert for pick in first.picks]))
    signed = signed_assignment(booking, drawing, 1)
    booking.assignment, booking.assignment_version = signed, 1
    _transition(booking, "approve", by=by, drawing=drawing.pk, commitment=drawing.seed_commitment,
                assignment_sha256=protocol.body_hash(signed["document"]))
    outbox.send(partner=booking.partner, type="booking.approve", idempotency_key=_key(booking, "approve:1"),
                body={"booking": str(booking.uuid), "assignment": signed})
    return booking


@transaction.atomic
def booking_reject(*, by: Actor, booking: Booking, reason: str) -> Booking:
    booking = _lock(booking)
    require(by.user, "crossregion.manage", booking.partner)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写拒绝原因。"), code="reason_required")
    _expect(booking, BookingRole.PARTNER, [BookingState.REQUESTED], _("拒绝"))
    booking.reason = reason
    _transition(booking, "reject", by=by, note=reason, reason=reason)
    outbox.send(partner=booking.partner, type="booking.reject", idempotency_key=_key(booking, "reject"),
                body={"booking": str(booking.uuid), "reason": reason})
    return booking


@transaction.atomic
def booking_propose(*, by: Actor, booking: Booking, starts_at: datetime, ends_at: datetime, seats: list[dict], note: str = "") -> Booking:
    """Propose another slot and/or seat count (booking.propose); the host accepts or cancels."""
    booking = _lock(booking)
    require(by.user, "crossregion.manage", booking.partner)
    _expect(booking, BookingRole.PARTNER, [BookingState.REQUESTED], _("建议调整"))
    terms = clean_terms(starts_at, ends_at, seats)
    if terms == _terms(booking):
        raise DomainError(_("建议的时段和席位与原申请相同。"), code="proposal_same")
    check_whole_panel(whole_panel_request(tender_code=booking.tender_code, lot_ref=booking.lot_ref, terms=terms, panel=booking.panel))
    note = (note or "").strip()
    booking.proposal = {**terms, "note": note}
    _transition(booking, "propose", by=by, note=note, proposal=booking.proposal)
    outbox.send(partner=booking.partner, type="booking.propose", idempotency_key=_key(booking, f"propose:{booking.revision}"),
                body={"booking": str(booking.uuid), "revision": booking.revision + 1, "terms": terms, "note": note})
    return booking


def received_replace(*, partner: Partner, body: dict) -> dict:
    """The host's away expert declined (or recused): we draw a substitute in a new round from the
    same pool minus everyone drawn, reserve them, and answer with the signed assignment's next version."""
    booking = _received(partner, body, BookingRole.PARTNER)
    _expect(booking, BookingRole.PARTNER, [BookingState.APPROVED], _("补抽"))
    drawing = PartnerDrawing.objects.select_for_update().get(booking=booking)
    expert_id, reason = str(body.get("expert", "")), str(body.get("reason", ""))[:2000]
    if body.get("version") != booking.assignment_version:
        raise DomainError(_("专家指派的版本不一致。"), code="revision")
    if expert_id not in {seat["expert"] for seat in current_seats(drawing)}:
        raise DomainError(_("该专家不在本预约的指派中。"), code="not_assigned")
    if timezone.now() >= booking.ends_at:
        raise DomainError(_("评标已结束。"), code="session_over")
    rounds = [algorithm.Round.from_json(data) for data in drawing.rounds]
    try:
        new_round = algorithm.replace(bytes.fromhex(drawing.seed_hex), algorithm.DrawingRequest.from_json(drawing.request_json),
                                      drawing.eligible, rounds, [expert_id])
    except algorithm.DrawingRefused as refused:
        raise _refused(refused) from None
    by = partner_actor(partner)
    number = len(rounds)
    drawing.rounds = [*drawing.rounds, new_round.to_json()]
    drawing.save(update_fields=["rounds"])
    record_event(by=by, action="crossregion.partner_drawing_replace", obj=drawing, payload={
        "booking": str(booking.uuid), "round": number, "declined": expert_id, "reason": reason, "rounds_json": new_round.to_json(),
    })
    release(booking, Expert.objects.filter(public_id=expert_id))
    _reserve(booking, Expert.objects.filter(public_id__in=[pick.expert for pick in new_round.picks]))
    version = booking.assignment_version + 1
    booking.assignment, booking.assignment_version = signed_assignment(booking, drawing, version), version
    _note(booking, "replace", by, reason)
    booking.save(update_fields=["assignment", "assignment_version", "history", "updated_at"])
    record_event(by=by, action="crossregion.booking_replace", obj=booking, payload={
        "booking": str(booking.uuid), "version": version, "declined": expert_id, "replacement": new_round.picks[0].expert,
        "assignment_sha256": protocol.body_hash(booking.assignment["document"])})
    return {**_answer(booking), "assignment": booking.assignment}



def received_names(*, partner: Partner, body: dict) -> dict:
    """The host published its result: we reveal our drawing's seed (audited, so anyone can re-run it)
    and answer with the assigned experts' names, signed (etender-assignment-names/1)."""
    booking = _received(partner, body, BookingRole.PARTNER)
    _expect(booking, BookingRole.PARTNER, [BookingState.APPROVED], _("公布专家姓名"))
    if body.get("version") != booking.assignment_version:
        raise DomainError(_("专家指派的版本不一致。"), code="revision")
    drawing = PartnerDrawing.objects.select_for_update().get(booking=booking)
    by = partner_actor(partner)
    if not drawing.seed_revealed:
        drawing.seed_revealed = True
        drawing.save(update_fields=["seed_revealed"])
        record_event(by=by, action="crossregion.partner_drawing_publish", obj=drawing, payload={
            "booking": str(booking.uuid), "seed": drawing.seed_hex, "commitment": drawing.seed_commitment, "rounds": drawing.rounds})
    seats = current_seats(drawing)
    experts = {str(e.public_id): e for e in Expert.objects.filter(public_id__in=[s["expert"] for s in seats])}
    doc = bp.build_names(booking=str(booking.uuid), version=booking.assignment_version, drawing_id=drawing.pk,
                         commitment=drawing.seed_commitment, seed=drawing.seed_hex,
                         names=[{"expert": s["expert"], "name": experts[s["expert"]].name} for s in seats],
                         issued_at=protocol.format_time(timezone.now()))
    booking.names = sign_document(doc)
    _note(booking, "names", by)
    booking.save(update_fields=["names", "history", "updated_at"])
    return {**_answer(booking), "names": booking.names}


def drawing_of(booking: Booking) -> PartnerDrawing | None:
    return PartnerDrawing.objects.filter(booking=booking).first()
