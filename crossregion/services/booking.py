"""Venue booking (场地预约) between a host and a partner platform (docs/cross-region.md "Booking and
assignment"). Every write is one service under a transaction, audited, and told to the other
platform through the outbox (signed, idempotent); the messages' bodies are crossregion/booking_protocol.py.

Host (role "host"), centre staff: `booking_request` asks the partner for seats for a lot's session;
`booking_accept` takes the partner's proposed change; `booking_cancel`; `assignment_seat` seats the
away experts of an approved booking in the lot's drawing (also done at once when the assignment
arrives and the drawing is drawn). Partner (role "partner"), centre staff: `booking_approve` draws
the seats from its own pool and sends the signed assignment (crossregion/services/partner_drawing.py);
`booking_reject`; `booking_propose`; `booking_cancel`. `received_*` apply the other side's messages
(crossregion/handlers_booking.py), as the partner's system actor.
"""

from __future__ import annotations

import uuid as uuid_module
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Organisation
from accounts.permissions import require
from audit.actor import Actor
from audit.services import fsm_transition, record_event
from config.errors import DomainError, IllegalTransition
from crossregion import booking_protocol as bp
from crossregion import protocol
from crossregion.identity import own_region, partner_actor, verify_partner_document
from crossregion.models import Booking, BookingRole, BookingState, Partner
from crossregion.models_booking import OPEN_STATES
from crossregion.services import outbox
from evaluation import drawing as algorithm
from evaluation.specialties import is_specialty

STEP_LABELS = {
    "request": gettext_lazy("申请席位"), "approve": gettext_lazy("同意并抽取"), "reject": gettext_lazy("拒绝"),
    "propose": gettext_lazy("建议调整"), "accept": gettext_lazy("接受调整"), "cancel": gettext_lazy("取消"),
    "assignment": gettext_lazy("收到专家指派"), "seat": gettext_lazy("异地专家入座"), "replace": gettext_lazy("补抽异地专家"),
    "names": gettext_lazy("专家姓名（结果公布）"),
}


# Helpers -------------------------------------------------------------------------------------

def _who(by: Actor) -> str:
    return by.name or by.role or ""


def _note(booking: Booking, step: str, by: Actor, note: str = "") -> None:
    booking.history = [*booking.history, {"at": protocol.format_time(timezone.now()), "step": step, "by": _who(by), "note": note}]
    booking.updated_at = timezone.now()


def _tender_id(booking: Booking) -> int | None:
    return booking.lot.tender_id if booking.lot_id else None


def _payload(booking: Booking, **extra) -> dict:
    return {"booking": str(booking.uuid), "role": booking.role, "partner": booking.partner.region_code, "revision": booking.revision, **extra}


def _transition(booking: Booking, name: str, *, by: Actor, note: str = "", **payload) -> Booking:
    _note(booking, name, by, note)
    return fsm_transition(booking, name, by=by, tender_id=_tender_id(booking), payload=_payload(booking, **payload))


def _lock(booking: Booking) -> Booking:
    return Booking.objects.select_for_update(of=("self",)).select_related("partner", "lot__tender").get(pk=booking.pk)


def _expect(booking: Booking, role: str, states, action: str) -> None:
    if booking.role != role:
        raise IllegalTransition(_("本平台在该预约中不能%(action)s。") % {"action": action}, code="wrong_role")
    if booking.state not in states:
        raise IllegalTransition(_("预约处于“%(state)s”状态，不能%(action)s。") % {
            "state": booking.get_state_display(), "action": action}, code="booking_state")


def _key(booking: Booking, step: str) -> str:
    return f"booking:{booking.uuid}:{step}"


def clean_terms(starts_at: datetime | None, ends_at: datetime | None, seats) -> dict:
    """The session's slot and seats, checked, as the protocol carries them (times in UTC)."""
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        raise DomainError(_("评标结束时间应晚于开始时间。"), code="session_time")
    if starts_at <= timezone.now():
        raise DomainError(_("评标开始时间应晚于当前时间。"), code="session_time")
    cleaned = []
    for seat in seats or []:
        specialty = str(seat.get("specialty", "")).strip().upper()
        try:
            count = int(seat.get("count"))
        except (TypeError, ValueError):
            raise DomainError(_("席位数应为整数。"), code="seats") from None
        if not is_specialty(specialty):
            raise DomainError(_("专业代码“%(code)s”不在专业分类中。") % {"code": specialty}, code="seats")
        if count < 1:
            raise DomainError(_("每个专业至少 1 个席位。"), code="seats")
        if any(s["specialty"] == specialty for s in cleaned):
            raise DomainError(_("专业“%(code)s”重复。") % {"code": specialty}, code="seats")
        cleaned.append({"specialty": specialty, "count": count})
    if not cleaned:
        raise DomainError(_("请至少申请一个专业的席位。"), code="seats")
    return {"starts_at": protocol.format_time(starts_at), "ends_at": protocol.format_time(ends_at), "seats": cleaned}


def whole_panel_request(*, tender_code: str, lot_ref: str, terms: dict, panel: dict) -> algorithm.DrawingRequest:
    """The partner's drawing request: the booked seats drawn there, the host's other expert seats as
    remote_experts, the tenderer's representatives: the panel rules hold over the whole panel."""
    return algorithm.DrawingRequest(
        tender=tender_code, lot=lot_ref, session_start=terms["starts_at"],
        slots=tuple((seat["specialty"], int(seat["count"])) for seat in terms["seats"]),
        tenderer_representatives=int(panel.get("tenderer_representatives", 0)), remote_experts=int(panel.get("home_experts", 0)),
    )


def check_whole_panel(request: algorithm.DrawingRequest) -> None:
    reasons = algorithm.check_panel_rules(request)
    if reasons:
        text = "；".join(_(r.template) % r.params if r.params else _(r.template) for r in reasons)
        raise DomainError(_("评标委员会不能按规定组成：%(reasons)s") % {"reasons": text}, code="panel_rules")


def _terms(booking: Booking) -> dict:
    return {"starts_at": protocol.format_time(booking.starts_at), "ends_at": protocol.format_time(booking.ends_at), "seats": booking.seats}


def _set_terms(booking: Booking, terms: dict) -> None:
    booking.starts_at, booking.ends_at = protocol.parse_time(terms["starts_at"]), protocol.parse_time(terms["ends_at"])
    booking.seats = [{"specialty": s["specialty"], "count": int(s["count"])} for s in terms["seats"]]


def _parties(lot) -> dict:
    from evaluation.services.drawing import party_credit_codes

    bidders, tenderer, agency = party_credit_codes(lot)
    names = dict(Organisation.objects.filter(credit_code__in=set(bidders) | {tenderer, agency}).values_list("credit_code", "name"))
    return {
        "tenderer": {"credit_code": tenderer, "name": names.get(tenderer, "")},
        "agency": {"credit_code": agency, "name": names.get(agency, "")} if agency else None,
        "bidders": [{"credit_code": code, "name": names.get(code, "")} for code in sorted(bidders)],
    }


# Host: request, accept a proposal ------------------------------------------------------------

@transaction.atomic
def booking_request(*, by: Actor, lot, partner: Partner, starts_at: datetime, ends_at: datetime, seats: list[dict],
                    home_experts: int, tenderer_representatives: int = 0) -> Booking:
    """Ask `partner` for seats for `lot`'s evaluation session (booking.request), naming the lot's
    bidders, tenderer and agency (credit codes and names) for the partner's recusal. The panel
    rules must hold over the whole panel (home_experts + the seats + representatives)."""
    from evaluation.services.drawing import DRAWABLE_LOT_STATES
    from tendering.models import Lot

    require(by.user, "crossregion.manage", partner)
    lot = Lot.objects.select_for_update(of=("self",)).select_related("tender__tenderer", "tender__agency").get(pk=lot.pk)
    if lot.state not in DRAWABLE_LOT_STATES:
        raise IllegalTransition(_("标段处于“%(state)s”状态，不能预约异地评标席位（截标后、评标结束前方可预约）。") % {
            "state": lot.get_state_display()}, code="lot_state")
    from crossregion.selectors import valid_agreement

    if valid_agreement(partner, area="booking") is None:
        raise DomainError(_("与%(partner)s没有有效的合作框架协议（范围：%(area)s）。") % {"partner": partner.name, "area": "booking"}, code="no_agreement")
    if Booking.objects.filter(lot=lot, partner=partner, role=BookingRole.HOST, state__in=OPEN_STATES).exists():
        raise DomainError(_("本标段已向该平台预约席位；如需变更请先取消原预约。"), code="booking_exists")
    terms = clean_terms(starts_at, ends_at, seats)
    try:
        panel = {"home_experts": int(home_experts), "tenderer_representatives": int(tenderer_representatives or 0)}
    except (TypeError, ValueError):
        raise DomainError(_("本地专家及招标人代表人数应为整数。"), code="panel_rules") from None
    if panel["home_experts"] < 0 or panel["tenderer_representatives"] < 0:
        raise DomainError(_("人数不能为负数。"), code="panel_rules")
    check_whole_panel(whole_panel_request(tender_code=lot.tender.code, lot_ref=str(lot.pk), terms=terms, panel=panel))
    booking = Booking(uuid=uuid_module.uuid4(), role=BookingRole.HOST, partner=partner, lot=lot, tender_code=lot.tender.code,
                      tender_title=lot.tender.title, lot_ref=str(lot.pk), lot_label=str(lot), panel=panel, parties=_parties(lot),
                      requested_by=by.user)
    _set_terms(booking, terms)
    _note(booking, "request", by)
    booking.save()
    body = bp.check_request({
        "booking": str(booking.uuid), "revision": booking.revision, "tender": {"code": booking.tender_code, "title": booking.tender_title},
        "lot": {"id": booking.lot_ref, "label": booking.lot_label}, "terms": terms, "panel": panel, "parties": booking.parties,
    })
    record_event(by=by, action="crossregion.booking_request", obj=booking, tender_id=lot.tender_id, payload=_payload(
        booking, lot=lot.pk, terms=terms, panel=panel, body_sha256=protocol.body_hash(body)))
    outbox.send(partner=partner, type="booking.request", body=body, idempotency_key=_key(booking, "request"))
    return booking


@transaction.atomic
def booking_accept(*, by: Actor, booking: Booking) -> Booking:
    """The host takes the partner's proposed slot/seats (booking.accept); the booking is requested
    again under the new terms (revision + 1), for the partner's staff to approve."""
    booking = _lock(booking)
    require(by.user, "crossregion.manage", booking.partner)
    _expect(booking, BookingRole.HOST, [BookingState.PROPOSED], _("接受调整"))
    terms = clean_terms(protocol.parse_time(booking.proposal["starts_at"]), protocol.parse_time(booking.proposal["ends_at"]), booking.proposal["seats"])
    check_whole_panel(whole_panel_request(tender_code=booking.tender_code, lot_ref=booking.lot_ref, terms=terms, panel=booking.panel))
    _set_terms(booking, terms)
    booking.revision += 1
    booking.proposal = {}
    _transition(booking, "accept", by=by, terms=terms)
    outbox.send(partner=booking.partner, type="booking.accept", idempotency_key=_key(booking, f"accept:{booking.revision}"),
                body={"booking": str(booking.uuid), "revision": booking.revision})
    return booking


# Either side: cancel -------------------------------------------------------------------------

@transaction.atomic
def booking_cancel(*, by: Actor, booking: Booking, reason: str) -> Booking:
    """Either platform cancels an open booking (booking.cancel). At the partner the drawn experts'
    reservation is released; at the host the away experts leave the panel."""
    booking = _lock(booking)
    require(by.user, "crossregion.manage", booking.partner)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写取消原因。"), code="reason_required")
    _expect(booking, booking.role, OPEN_STATES, _("取消"))
    _cancelled(booking, by=by, reason=reason, by_us=True)
    outbox.send(partner=booking.partner, type="booking.cancel", idempotency_key=_key(booking, f"cancel:{own_region()}"),
                body={"booking": str(booking.uuid), "reason": reason})
    return booking


def _cancelled(booking: Booking, *, by: Actor, reason: str, by_us: bool) -> None:
    booking.reason, booking.cancelled_by_us = reason, by_us
    _transition(booking, "cancel", by=by, note=reason, reason=reason, by_us=by_us)
    if booking.role == BookingRole.PARTNER:
        from crossregion.services.partner_drawing import release

        release(booking)
    else:
        _away_members_leave(booking, by=by, reason=reason)


def _away_members_leave(booking: Booking, *, by: Actor, reason: str) -> None:
    from evaluation.models import MemberStatus, PanelMember

    members = PanelMember.objects.select_for_update(of=("self",)).filter(
        remote_assignment__startswith=f"{booking.uuid}:", status__in=[MemberStatus.DRAWN, MemberStatus.CONFIRMED])
    for member in members:
        member.status, member.status_reason, member.status_changed_at = MemberStatus.DECLINED, _("场地预约已取消：%(reason)s") % {"reason": reason}, timezone.now()
        member.save(update_fields=["status", "status_reason", "status_changed_at"])
        record_event(by=by, action="evaluation.member_replace", obj=member, tender_id=_tender_id(booking), payload={
            "drawing": member.drawing_id, "seat": member.seat, "kind": member.kind, "status": member.status, "reason": member.status_reason,
            "venue": "away", "remote_expert_id": member.remote_expert_id})


# Host: the assignment ------------------------------------------------------------------------

def verify_assignment(booking: Booking, signed) -> dict:
    """The partner's signed assignment for `booking`, checked: the partner's platform signature, the
    format, and that it is for this booking, this host, this lot and session, and fills exactly the
    seats booked. Raises DomainError (code bad_assignment) otherwise."""
    try:
        doc = bp.validate_assignment(verify_partner_document(signed, booking.partner))
    except protocol.ProtocolError as exc:
        raise DomainError(_("专家指派文件无效：%(detail)s") % {"detail": exc.detail}, code="bad_assignment") from None
    terms = _terms(booking)
    problems = []
    if doc["booking"] != str(booking.uuid):
        problems.append("booking")
    if doc["host"] != own_region() or doc["partner"] != booking.partner.region_code:
        problems.append("host/partner")
    if doc["lot"] != booking.lot_ref:
        problems.append("lot")
    if doc["session"] != {"starts_at": terms["starts_at"], "ends_at": terms["ends_at"]}:
        problems.append("session")
    if not bp.seats_match(doc, booking.seats):
        problems.append("seats")
    if problems:
        raise DomainError(_("专家指派文件与预约不符：%(fields)s") % {"fields": ", ".join(problems)}, code="bad_assignment")
    return doc


def assignment_seats(doc: dict) -> list[dict]:
    return [{"specialty": s["specialty"], "expert_id": s["expert"], "public_jwk": s["public_jwk"] or {}} for s in doc["seats"]]


def _try_seat(booking: Booking, by: Actor) -> bool:
    """Seat the assignment's experts in the lot's drawing if it is drawn with away seats for this
    partner; False (and a note) if not yet — staff seat them later (`assignment_seat`)."""
    from evaluation.services.drawing import away_members_seat

    doc = booking.assignment["document"]
    try:
        with transaction.atomic():
            away_members_seat(by=by, lot=booking.lot, partner_region=booking.partner.region_code,
                              assignment=f"{booking.uuid}:{doc['version']}", seats=assignment_seats(doc))
    except DomainError as exc:
        _note(booking, "seat", by, str(exc.message))
        return False
    _note(booking, "seat", by)
    return True


@transaction.atomic
def assignment_seat(*, by: Actor, booking: Booking) -> Booking:
    """Host staff seat the away experts of an approved booking in the lot's drawing (once it is
    drawn with away seats reserved for this partner). Refused with the reason otherwise."""
    from evaluation.services.drawing import away_members_seat

    booking = _lock(booking)
    require(by.user, "crossregion.manage", booking.partner)
    _expect(booking, BookingRole.HOST, [BookingState.APPROVED], _("安排异地专家入座"))
    doc = booking.assignment["document"]
    away_members_seat(by=by, lot=booking.lot, partner_region=booking.partner.region_code,
                      assignment=f"{booking.uuid}:{doc['version']}", seats=assignment_seats(doc))
    _note(booking, "seat", by)
    booking.save(update_fields=["history", "updated_at"])
    return booking


@transaction.atomic
def away_member_decline(*, by: Actor, booking: Booking, member, reason: str, status: str = "declined") -> Booking:
    """Host staff record that an away expert declined (or recused): the partner is asked for a
    substitute (booking.replace); when its next signed assignment comes back (`replacement_delivered`)
    the expert leaves and the substitute takes the seat. Until then the member keeps the seat."""
    booking = _lock(booking)
    require(by.user, "crossregion.manage", booking.partner)
    _expect(booking, BookingRole.HOST, [BookingState.APPROVED], _("申请补抽"))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请写明原因。"), code="reason_required")
    if status not in ("declined", "recused"):
        raise DomainError(_("状态只能是拒绝参加或申请回避。"), code="status")
    if member.venue != "away" or not member.serving or not member.remote_assignment.startswith(f"{booking.uuid}:"):
        raise DomainError(_("该成员不是本预约在任的异地专家。"), code="not_assigned")
    version = booking.assignment_version
    _note(booking, "replace", by, reason)
    booking.save(update_fields=["history", "updated_at"])
    record_event(by=by, action="crossregion.booking_replace_request", obj=booking, tender_id=_tender_id(booking), payload=_payload(
        booking, expert=member.remote_expert_id, seat=member.seat, status=status, reason=reason, version=version))
    outbox.send(partner=booking.partner, type="booking.replace", idempotency_key=_key(booking, f"replace:{version}"),
                body={"booking": str(booking.uuid), "expert": member.remote_expert_id, "status": status, "reason": reason, "version": version})
    return booking


def replacement_delivered(*, message, result) -> None:
    """Host, in the outbox's transaction: the partner's next assignment version is verified and the
    substitute seated. A result that does not verify leaves the panel as it was (and is noted)."""
    from evaluation.models import PanelMember
    from evaluation.services.drawing import away_member_replace

    booking = Booking.objects.select_for_update(of=("self",)).select_related("partner", "lot__tender").get(
        partner=message.partner, uuid=message.body["booking"], role=BookingRole.HOST)
    by = partner_actor(booking.partner)
    try:
        doc = verify_assignment(booking, (result or {}).get("assignment"))
        if doc["version"] != booking.assignment_version + 1:
            raise DomainError(_("专家指派的版本不是下一版。"), code="bad_assignment")
        declined = message.body["expert"]
        experts = {seat["expert"]: seat for seat in doc["seats"]}
        before = {seat["expert"] for seat in booking.assignment["document"]["seats"]}
        added = [e for e in experts if e not in before]
        if declined in experts or len(added) != 1:
            raise DomainError(_("新的专家指派没有替换该专家。"), code="bad_assignment")
        member = PanelMember.objects.get(remote_assignment__startswith=f"{booking.uuid}:", remote_expert_id=declined, venue="away",
                                         status__in=["drawn", "confirmed"])
        with transaction.atomic():
            away_member_replace(by=by, member=member, status=message.body.get("status", "declined"), reason=message.body.get("reason", ""),
                                expert_id=added[0], public_jwk=experts[added[0]]["public_jwk"], assignment=f"{booking.uuid}:{doc['version']}")
    except (DomainError, PanelMember.DoesNotExist) as exc:
        _note(booking, "replace", by, str(getattr(exc, "message", exc)))
        booking.save(update_fields=["history", "updated_at"])
        return
    booking.assignment, booking.assignment_version = result["assignment"], doc["version"]
    _note(booking, "assignment", by, f"v{doc['version']}")
    booking.save(update_fields=["assignment", "assignment_version", "history", "updated_at"])
    record_event(by=by, action="crossregion.booking_assignment", obj=booking, tender_id=_tender_id(booking), payload=_payload(
        booking, version=doc["version"], assignment_sha256=protocol.body_hash(doc), replaced=declined, replacement=added[0]))


# Host: the names at the result --------------------------------------------------------------

@transaction.atomic
def names_request(*, by: Actor, booking: Booking) -> Booking:
    """Once the lot's drawing result is published here (R46), ask the partner for the away experts'
    names and its drawing's seed (booking.names); they come back signed (`names_delivered`)."""
    from evaluation.models import Drawing, DrawingState

    booking = _lock(booking)
    require(by.user, "crossregion.manage", booking.partner)
    _expect(booking, BookingRole.HOST, [BookingState.APPROVED], _("请求专家姓名"))
    if not Drawing.objects.filter(lot=booking.lot, state=DrawingState.PUBLISHED).exists():
        raise DomainError(_("本标段的抽取结果尚未公布，不能请求异地专家姓名。"), code="result_not_published")
    version = booking.assignment_version
    record_event(by=by, action="crossregion.booking_names_request", obj=booking, tender_id=_tender_id(booking),
                 payload=_payload(booking, version=version))
    outbox.send(partner=booking.partner, type="booking.names", idempotency_key=_key(booking, f"names:{version}"),
                body={"booking": str(booking.uuid), "version": version})
    return booking


def names_delivered(*, message, result) -> None:
    """Host, in the outbox's transaction: the partner's signed names verified (signature, booking,
    version, the seed against the assignment's commitment, exactly the assigned experts) and kept."""
    import hashlib

    booking = Booking.objects.select_for_update(of=("self",)).select_related("partner", "lot__tender").get(
        partner=message.partner, uuid=message.body["booking"], role=BookingRole.HOST)
    by = partner_actor(booking.partner)
    signed = (result or {}).get("names")
    try:
        doc = bp.validate_names(verify_partner_document(signed, booking.partner))
    except protocol.ProtocolError as exc:
        _note(booking, "names", by, exc.detail)
        booking.save(update_fields=["history", "updated_at"])
        return
    assignment = booking.assignment["document"]
    ok = (doc["booking"] == str(booking.uuid) and doc["version"] == booking.assignment_version
          and doc["drawing"]["id"] == assignment["drawing"]["id"] and doc["drawing"]["commitment"] == assignment["drawing"]["commitment"]
          and hashlib.sha256(bytes.fromhex(doc["drawing"]["seed"])).hexdigest() == assignment["drawing"]["commitment"]
          and sorted(n["expert"] for n in doc["names"]) == sorted(s["expert"] for s in assignment["seats"]))
    if not ok:
        _note(booking, "names", by, "names document does not match the assignment")
        booking.save(update_fields=["history", "updated_at"])
        return
    booking.names = signed
    _note(booking, "names", by)
    booking.save(update_fields=["names", "history", "updated_at"])
    record_event(by=by, action="crossregion.booking_names", obj=booking, tender_id=_tender_id(booking), payload=_payload(
        booking, version=doc["version"], seed=doc["drawing"]["seed"], names_sha256=protocol.body_hash(doc)))


def names_of(booking: Booking) -> dict[str, str]:
    """{pseudonymous id: name} once the partner sent the names, else {}."""
    return {entry["expert"]: entry["name"] for entry in ((booking.names or {}).get("document") or {}).get("names", [])}


# Received from the other platform (crossregion/handlers_booking.py) ---------------------------

def _received(partner: Partner, body: dict, role: str) -> Booking:
    if not isinstance(body, dict):
        raise DomainError("body: not an object", code="booking_invalid")
    try:
        key = bp.check_uuid(body.get("booking"))
    except protocol.Malformed as exc:
        raise DomainError(exc.detail, code="booking_invalid") from None
    booking = Booking.objects.select_for_update(of=("self",)).select_related("partner", "lot__tender").filter(
        partner=partner, uuid=key, role=role).first()
    if booking is None:
        raise DomainError(_("没有该预约。"), code="unknown_booking")
    return booking


def _answer(booking: Booking) -> dict:
    return {"booking": str(booking.uuid), "state": booking.state, "revision": booking.revision}


def received_request(*, partner: Partner, body: dict) -> dict:
    """Partner: the host asks for seats; a new booking waits for our centre staff."""
    try:
        body = bp.check_request(body)
    except protocol.Malformed as exc:
        raise DomainError(exc.detail, code="booking_invalid") from None
    if Booking.objects.filter(partner=partner, uuid=body["booking"]).exists():
        raise DomainError(_("该预约已收到。"), code="booking_exists")
    by = partner_actor(partner)
    booking = Booking(uuid=body["booking"], role=BookingRole.PARTNER, partner=partner, revision=body["revision"],
                      tender_code=body["tender"]["code"], tender_title=body["tender"]["title"], lot_ref=body["lot"]["id"],
                      lot_label=body["lot"]["label"], panel=body["panel"], parties=body["parties"])
    _set_terms(booking, body["terms"])
    _note(booking, "request", by)
    booking.save()
    record_event(by=by, action="crossregion.booking_received", obj=booking, payload=_payload(
        booking, terms=body["terms"], panel=body["panel"], bidders=len(body["parties"]["bidders"])))
    return _answer(booking)


def received_approve(*, partner: Partner, body: dict) -> dict:
    """Host: the partner approved and sends its signed assignment; verified, stored, and the away
    experts seated if the lot's drawing is ready for them."""
    booking = _received(partner, body, BookingRole.HOST)
    if booking.state != BookingState.REQUESTED:
        raise IllegalTransition(_("预约处于“%(state)s”状态，不能接受对方的同意。") % {"state": booking.get_state_display()}, code="booking_state")
    doc = verify_assignment(booking, body.get("assignment"))
    if doc["version"] != 1:
        raise DomainError(_("首次专家指派的版本应为 1。"), code="bad_assignment")
    by = partner_actor(partner)
    booking.assignment, booking.assignment_version = body["assignment"], doc["version"]
    _note(booking, "assignment", by)
    _transition(booking, "approve", by=by, assignment_sha256=protocol.body_hash(doc), drawing=doc["drawing"]["id"],
                commitment=doc["drawing"]["commitment"], experts=[s["expert"] for s in doc["seats"]])
    seated = _try_seat(booking, by)
    booking.save(update_fields=["history", "updated_at"])
    try:
        from crossregion.services.replication import subscribe
    except ImportError:  # replication not installed on this platform yet
        subscribe = None
    if subscribe is not None:
        subscribe(partner=partner, lot=booking.lot, by=by)
    return {**_answer(booking), "seated": seated}


def received_reject(*, partner: Partner, body: dict) -> dict:
    booking = _received(partner, body, BookingRole.HOST)
    reason = str(body.get("reason", ""))[:2000]
    _expect(booking, BookingRole.HOST, [BookingState.REQUESTED], _("接受对方的拒绝"))
    booking.reason = reason
    _transition(booking, "reject", by=partner_actor(partner), note=reason, reason=reason)
    return _answer(booking)


def received_propose(*, partner: Partner, body: dict) -> dict:
    booking = _received(partner, body, BookingRole.HOST)
    _expect(booking, BookingRole.HOST, [BookingState.REQUESTED], _("接受对方的调整建议"))
    try:
        terms = bp.check_terms(body.get("terms"))
    except protocol.Malformed as exc:
        raise DomainError(exc.detail, code="booking_invalid") from None
    note = str(body.get("note", ""))[:2000]
    booking.proposal = {"starts_at": terms["starts_at"], "ends_at": terms["ends_at"], "seats": terms["seats"], "note": note}
    _transition(booking, "propose", by=partner_actor(partner), note=note, proposal=booking.proposal)
    return _answer(booking)


def received_accept(*, partner: Partner, body: dict) -> dict:
    """Partner: the host took our proposal; requested again under the new terms (revision + 1)."""
    booking = _received(partner, body, BookingRole.PARTNER)
    _expect(booking, BookingRole.PARTNER, [BookingState.PROPOSED], _("接受调整"))
    if body.get("revision") != booking.revision + 1:
        raise DomainError(_("调整的版本不一致。"), code="revision")
    _set_terms(booking, booking.proposal)
    booking.revision += 1
    booking.proposal = {}
    _transition(booking, "accept", by=partner_actor(partner), terms=_terms(booking))
    return _answer(booking)


def received_cancel(*, partner: Partner, body: dict) -> dict:
    """Either side: the other platform cancelled. Cancelled already (both at once): nothing to do."""
    try:
        key = bp.check_uuid(body.get("booking") if isinstance(body, dict) else None)
    except protocol.Malformed as exc:
        raise DomainError(exc.detail, code="booking_invalid") from None
    role = BookingRole.PARTNER if Booking.objects.filter(partner=partner, uuid=key, role=BookingRole.PARTNER).exists() else BookingRole.HOST
    booking = _received(partner, body, role)
    if booking.state == BookingState.CANCELLED:
        return _answer(booking)
    _expect(booking, role, OPEN_STATES, _("取消"))
    _cancelled(booking, by=partner_actor(partner), reason=str(body.get("reason", ""))[:2000], by_us=False)
    return _answer(booking)
