"""Drawing a lot's panel (专家抽取) on the platform; the algorithm is evaluation/drawing.py (pure).

Who: the trading centre runs every drawing on behalf of the tender (the tenderer or its agency asks
the centre, as centres do; the panel is never named by hand, L37/R46). Two steps, so the seed's
commitment is on the audit trail before anything is drawn:

1. `drawing_request` fixes everything the result depends on - the request (tender, lot, session
   start, specialties and counts, representatives) and the sorted eligible pool after recusal (P12) -
   makes a secret seed and records `evaluation.drawing_commit` with the seed's SHA-256 and the hash
   of request + pool (`context`). A request the panel rules (odd, >= 5, experts >= 2/3) or the pool
   cannot satisfy is refused with the reasons by a DomainError and nothing is stored: never a smaller
   panel. Refusals depend on the request and the pool only, never on the seed.
2. `drawing_run` draws round 0 from the stored seed, request and pool (a deterministic function of
   them), seats the panel and creates the evaluation session.

Declines and recusals are replaced by `replace_member` in a new round from the rest of the same pool;
`publish_result` reveals the seed, after which anyone can re-run everything (`drawing_verify`).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Role, User
from accounts.notifications import notify
from accounts.permissions import require
from audit.actor import Actor
from audit.services import fsm_transition, record_event
from bidding.models import Bid
from config.errors import DomainError, IllegalTransition
from evaluation import drawing as algorithm
from evaluation.models import (
    Drawing,
    DrawingState,
    EvaluationSession,
    Expert,
    ExpertUnavailability,
    MemberKind,
    MemberStatus,
    PanelMember,
)
from evaluation.services.session import create_session
from evaluation.specialties import is_specialty
from tendering.models import BidderRegistration, Lot, LotState

# A lot may have its panel drawn once its bids are closed (the bidders are then known) and until its
# evaluation begins.
DRAWABLE_LOT_STATES = (LotState.CLOSED, LotState.OPENING, LotState.EVALUATING)
ACTIVE_DRAWING_STATES = (DrawingState.COMMITTED, DrawingState.DRAWN, DrawingState.PUBLISHED)
SERVING = (MemberStatus.DRAWN, MemberStatus.CONFIRMED)
# Why an expert of the requested specialties is not eligible (stored in Drawing.excluded).
EXCLUSION_LABELS = {
    "employer": gettext_noop("任职于投标人、招标人或招标代理"),
    "conflict": gettext_noop("申报与投标人、招标人或招标代理存在利害关系"),
    "unavailable": gettext_noop("评标时段内不能参加（请假或已在其他评标）"),
    "no_account": gettext_noop("尚无登录账号，无法进入评标室"),
}


def _authorise(by: Actor, action: str, obj) -> None:
    """The platform itself (no user) passes; anyone else needs the rule."""
    if by.user is None and by.role == "system":
        return
    require(by.user, action, obj)


def _refused(refused: algorithm.DrawingRefused) -> DomainError:
    reasons = "；".join(_(reason.template) % reason.params if reason.params else _(reason.template) for reason in refused.reasons)
    return DomainError(_("无法按此条件抽取：%(reasons)s") % {"reasons": reasons}, code="drawing_refused")


# Who is eligible (P12) ------------------------------------------------------------------------

def party_credit_codes(lot: Lot) -> tuple[set[str], str, str]:
    """(bidders, tenderer, agency) of the lot by credit code. Bidders are every organisation with a bid
    for the lot, in force or not, and every organisation that obtained the tender documents: before the
    opening the registrations are all that is known, and a conflict with a bidder whose bid was revoked
    at the opening is still a conflict. Recusing too many is safe; too few is not."""
    tender = lot.tender
    bidders = set(BidderRegistration.objects.filter(tender=tender).values_list("organisation__credit_code", flat=True))
    bidders |= set(Bid.objects.filter(lot=lot).values_list("bidder__credit_code", flat=True))
    agency = tender.agency.credit_code if tender.agency_id else ""
    return bidders, tender.tenderer.credit_code, agency


def eligibility(lot: Lot, request: algorithm.DrawingRequest, *, starts_at: datetime, ends_at: datetime,
                exclude_drawing: int | None = None) -> tuple[dict[str, list[str]], list[dict]]:
    """The eligible pool per requested specialty ({specialty: sorted public ids}) and the excluded
    ([{"expert": public id, "reasons": [...]}], sorted), among the active experts who hold one of the
    requested specialties. Excluded: employed by or declaring a conflict with a bidder, the tenderer
    or the agency; unavailable for the session (a declared period, or a seat on another panel whose
    session overlaps); without a sign-in account."""
    bidders, tenderer, agency = party_credit_codes(lot)
    return eligibility_for(request, bidders=set(bidders) | ({agency} if agency else set()), tenderer=tenderer,
                           starts_at=starts_at, ends_at=ends_at, exclude_drawing=exclude_drawing)


def eligibility_for(request: algorithm.DrawingRequest, *, bidders: set[str], tenderer: str, starts_at: datetime,
                    ends_at: datetime, exclude_drawing: int | None = None) -> tuple[dict[str, list[str]], list[dict]]:
    """`eligibility` with the parties given by credit code (P12): `bidders` (with the agency) and the
    `tenderer`. A partner platform's drawing for another region's lot uses it with the parties the
    host named (crossregion/services/booking.py)."""
    parties = set(bidders)
    wanted = set(request.specialties)
    experts = [e for e in Expert.objects.filter(active=True).prefetch_related("conflicts") if wanted.intersection(e.specialties)]
    away = set(ExpertUnavailability.objects.filter(starts_at__lt=ends_at, ends_at__gt=starts_at).values_list("expert_id", flat=True))
    busy_seats = PanelMember.objects.filter(
        kind=MemberKind.EXPERT, status__in=SERVING, drawing__state__in=[DrawingState.DRAWN, DrawingState.PUBLISHED],
        drawing__session_starts_at__lt=ends_at, drawing__session_ends_at__gt=starts_at,
    )
    if exclude_drawing is not None:
        busy_seats = busy_seats.exclude(drawing_id=exclude_drawing)
    busy = set(busy_seats.values_list("expert_id", flat=True))
    candidates = [
        algorithm.Candidate(
            id=str(e.public_id), specialties=tuple(e.specialties), employer=e.employer_credit_code,
            conflicts=tuple(c.organisation_credit_code for c in e.conflicts.all()), available=e.pk not in away and e.pk not in busy,
        )
        for e in experts
    ]
    no_account = [str(e.public_id) for e in experts if e.user_id is None]
    split = algorithm.eligible(candidates, bidder_orgs=sorted(parties), tenderer_org=tenderer, exclude_ids=no_account)
    pool = algorithm.pools(split.eligible, request)
    excluded = [
        {"expert": x.id, "reasons": ["no_account" if code == "excluded" else code for code in x.reasons]} for x in split.excluded
    ]
    return {specialty: list(ids) for specialty, ids in pool.items()}, excluded


# Requesting and running ----------------------------------------------------------------------

def _clean_slots(slots) -> list[dict]:
    cleaned = []
    for slot in slots or []:
        specialty = str(slot.get("specialty", "")).strip().upper()
        try:
            count = int(slot.get("count"))
        except (TypeError, ValueError):
            raise DomainError(_("抽取人数应为整数。"), code="slots") from None
        if not is_specialty(specialty):
            raise DomainError(_("专业代码“%(code)s”不在专业分类中。") % {"code": specialty}, code="slots")
        if count < 1:
            raise DomainError(_("每个专业至少抽取 1 人。"), code="slots")
        cleaned.append({"specialty": specialty, "count": count})
    if not cleaned:
        raise DomainError(_("请至少填写一个抽取专业及人数。"), code="slots")
    return cleaned


def _clean_representatives(lot: Lot, count: int, representatives) -> list[User]:
    users = list(dict.fromkeys(representatives or []))
    if len(users) != len(list(representatives or [])):
        raise DomainError(_("同一人不能重复担任招标人代表。"), code="representatives")
    if len(users) != count:
        raise DomainError(_("招标人代表人数为 %(count)s，应指定同样多的招标人代表（已指定 %(named)s 人）。") % {
            "count": count, "named": len(users)}, code="representatives")
    for user in users:
        if user.organisation_id != lot.tender.tenderer_id or not user.is_active or user.role != Role.TENDERER:
            raise DomainError(_("招标人代表必须是招标人单位的在职用户：%(name)s 不是。") % {"name": user.label}, code="representatives")
    return users


@transaction.atomic
def drawing_request(*, by: Actor, lot: Lot, session_starts_at: datetime, session_ends_at: datetime, slots: list[dict],
                    tenderer_representatives: int = 0, representatives: list[User] | tuple = (),
                    away_seats: list[dict] | tuple = ()) -> Drawing:
    """Fix the request and the eligible pool, commit to a fresh secret seed (audit
    `evaluation.drawing_commit`), seat the tenderer's representatives (after the experts' seats).
    Refused with the reasons, storing nothing, if the panel rules or the pool cannot be satisfied.

    Cross-region: `away_seats` [{"specialty", "count", "partner": region code}] are expert seats a
    partner platform fills from its own pool (its signed assignment, `away_members_seat`); they are
    counted in the panel rules over the WHOLE panel (3 home + 2 away = 5) and take the seats after
    the home experts'."""
    _authorise(by, "evaluation.request_drawing", lot)
    lot = Lot.objects.select_for_update(of=("self",)).select_related("tender__tenderer", "tender__agency").get(pk=lot.pk)
    if lot.state not in DRAWABLE_LOT_STATES:
        raise IllegalTransition(_("标段处于“%(state)s”状态，不能抽取评标专家（截标后、评标结束前方可抽取）。") % {"state": lot.get_state_display()})
    if Drawing.objects.filter(lot=lot, state__in=ACTIVE_DRAWING_STATES).exists():
        raise DomainError(_("本标段已抽取评标专家，不能再次抽取；专家拒绝参加或回避时从原抽取结果中补抽。"), code="already_drawn")
    if session_starts_at is None or session_ends_at is None or session_ends_at <= session_starts_at:
        raise DomainError(_("评标结束时间应晚于开始时间。"), code="session_time")
    if session_starts_at <= timezone.now():
        raise DomainError(_("评标开始时间应晚于当前时间。"), code="session_time")
    slots = _clean_slots(slots)
    away_seats = _clean_away_seats(away_seats)
    try:
        tenderer_representatives = int(tenderer_representatives or 0)
    except (TypeError, ValueError):
        raise DomainError(_("招标人代表人数应为整数。"), code="representatives") from None
    if tenderer_representatives < 0:
        raise DomainError(_("招标人代表人数不能为负数。"), code="representatives")
    request = algorithm.DrawingRequest(
        tender=lot.tender.code, lot=str(lot.number), session_start=algorithm.format_session_start(session_starts_at),
        slots=tuple((slot["specialty"], slot["count"]) for slot in slots), tenderer_representatives=tenderer_representatives,
        remote_experts=sum(seat["count"] for seat in away_seats),
    )
    reasons = algorithm.check_panel_rules(request)
    if reasons:
        raise _refused(algorithm.DrawingRefused(reasons))
    representatives = _clean_representatives(lot, tenderer_representatives, representatives)
    pool, excluded = eligibility(lot, request, starts_at=session_starts_at, ends_at=session_ends_at)
    try:
        # Whether the pool can fill the request does not depend on the seed (evaluation/drawing.py), so
        # this checks it without computing the real result before the commitment is recorded.
        algorithm.draw(bytes(algorithm.SEED_BYTES), request, pool)
    except algorithm.DrawingRefused as refused:
        raise _refused(refused) from None
    if by.user_id is None:
        raise DomainError(_("抽取须由交易中心工作人员申请。"), code="requested_by")
    seed = algorithm.new_seed()
    drawing = Drawing.objects.create(
        lot=lot, session_starts_at=session_starts_at, session_ends_at=session_ends_at, slots=slots,
        tenderer_representatives=tenderer_representatives, seed_commitment=algorithm.seed_commitment(seed), seed_hex=seed.hex(),
        request_json=request.to_json(), eligible=pool, excluded=excluded, requested_by_id=by.user_id, requested_at=timezone.now(),
        away_seats=away_seats,
    )
    for n, user in enumerate(representatives, start=request.panel_experts + 1):
        PanelMember.objects.create(drawing=drawing, kind=MemberKind.REPRESENTATIVE, user=user, seat=n)
    record_event(by=by, action="evaluation.drawing_commit", obj=drawing, tender_id=lot.tender_id, payload={
        "version": algorithm.VERSION, "lot": lot.pk, "commitment": drawing.seed_commitment,
        "context": algorithm.context_hash(request, pool), "request": request.to_json(),
        "eligible_counts": {specialty: len(ids) for specialty, ids in pool.items()},
        "excluded_counts": exclusion_counts(excluded), "representatives": [user.pk for user in representatives],
        "session_ends_at": session_ends_at.isoformat(), **({"away_seats": away_seats} if away_seats else {}),
    })
    return drawing


def _clean_away_seats(away_seats) -> list[dict]:
    cleaned = []
    for seat in away_seats or []:
        partner = str(seat.get("partner", "")).strip()
        (slot,) = _clean_slots([seat])
        if not (len(partner) == 6 and partner.isdigit()):
            raise DomainError(_("异地专家席位须注明合作平台的地区代码。"), code="away_seats")
        cleaned.append({**slot, "partner": partner})
    return cleaned


def exclusion_counts(excluded: list[dict]) -> dict[str, int]:
    """How many experts each reason excluded (an expert with two reasons counts under both)."""
    counts: dict[str, int] = {}
    for entry in excluded:
        for code in entry["reasons"]:
            counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items()))


def stored_request(drawing: Drawing) -> algorithm.DrawingRequest:
    return algorithm.DrawingRequest.from_json(drawing.request_json)


def stored_rounds(drawing: Drawing) -> list[algorithm.Round]:
    return [algorithm.Round.from_json(data) for data in drawing.rounds]


def _experts_by_public_id(ids) -> dict[str, Expert]:
    return {str(e.public_id): e for e in Expert.objects.filter(public_id__in=list(ids))}


@transaction.atomic
def drawing_run(*, by: Actor, drawing: Drawing) -> Drawing:
    """Round 0 from the committed seed, request and pool; the experts take seats 1..n in the order
    drawn; the lot's evaluation session is created. The drawn see their seat on 我的评标; the
    tenderer and its agency are told the panel is drawn (without names)."""
    _authorise(by, "evaluation.request_drawing", drawing.lot)
    drawing = Drawing.objects.select_for_update(of=("self",)).select_related("lot__tender").get(pk=drawing.pk)
    if drawing.state != DrawingState.COMMITTED:
        raise IllegalTransition(_("该抽取已进行过。"))
    if drawing.lot.state not in DRAWABLE_LOT_STATES:
        raise IllegalTransition(_("标段处于“%(state)s”状态，不能抽取评标专家（截标后、评标结束前方可抽取）。") % {
            "state": drawing.lot.get_state_display()})
    if timezone.now() >= drawing.session_ends_at:
        raise DomainError(_("评标时段已过，不能再抽取。"), code="session_over")
    request = stored_request(drawing)
    try:
        first = algorithm.draw(bytes.fromhex(drawing.seed_hex), request, drawing.eligible)
    except algorithm.DrawingRefused as refused:
        # Cannot happen with the pool checked at the request; recorded rather than retried with a new seed.
        drawing.refused_reason = str(_refused(refused).message)
        return fsm_transition(drawing, "refuse", by=by, tender_id=drawing.lot.tender_id, payload={"reason": drawing.refused_reason})
    experts = _experts_by_public_id(pick.expert for pick in first.picks)
    drawing.rounds = [first.to_json()]
    drawing.drawn_at = timezone.now()
    fsm_transition(drawing, "draw", by=by, tender_id=drawing.lot.tender_id,
                   payload={"commitment": drawing.seed_commitment, "rounds": drawing.rounds})
    for seat, pick in enumerate(first.picks, start=1):
        expert = experts[pick.expert]
        PanelMember.objects.create(drawing=drawing, kind=MemberKind.EXPERT, expert=expert, user_id=expert.user_id,
                                   specialty=pick.specialty, seat=seat, round=0)
    create_session(by=by, drawing=drawing)
    tender = drawing.lot.tender
    notify(organisations=[tender.tenderer_id] + ([tender.agency_id] if tender.agency_id else []),
           subject=_("%(lot)s 评标专家已抽取") % {"lot": drawing.lot},
           body=_("评标时间：%(start)s 起。评标委员会成员名单在中标候选人公示前保密。") % {
               "start": timezone.localtime(drawing.session_starts_at).strftime("%Y-%m-%d %H:%M")},
           url=reverse("evaluation:drawing_detail", args=[drawing.pk]))
    return drawing


# The members' answers and replacements -------------------------------------------------------

def _lock_member(member: PanelMember) -> PanelMember:
    return PanelMember.objects.select_for_update(of=("self",)).select_related("drawing__lot__tender", "expert").get(pk=member.pk)


@transaction.atomic
def member_confirm(*, by: Actor, member: PanelMember) -> PanelMember:
    """The drawn expert confirms they will serve (before the session starts)."""
    _authorise(by, "evaluation.answer_seat", member)
    member = _lock_member(member)
    if member.status != MemberStatus.DRAWN:
        raise IllegalTransition(_("该席位已答复（%(status)s）。") % {"status": member.get_status_display()})
    if member.drawing.state != DrawingState.DRAWN or timezone.now() >= member.drawing.session_starts_at:
        raise DomainError(_("评标已开始，不能再确认或拒绝。"), code="session_started")
    member.status, member.status_changed_at = MemberStatus.CONFIRMED, timezone.now()
    member.save(update_fields=["status", "status_changed_at"])
    record_event(by=by, action="evaluation.member_confirm", obj=member, tender_id=member.drawing.lot.tender_id,
                 payload={"drawing": member.drawing_id, "seat": member.seat})
    return member


@transaction.atomic
def replace_member(*, by: Actor, member: PanelMember, status: str, reason: str) -> PanelMember | None:
    """Mark a serving member declined (before the session starts) or recused (a conflict found at
    check-in, until the evaluation ends), with the reason. For an expert, a replacement round is drawn
    (evaluation.drawing.replace) from the same pool minus everyone drawn in any round, recorded in the
    rounds and the audit trail, and the substitute takes the same seat; returns the new member. For a
    tenderer representative returns None (the tenderer names another). If nobody can replace the
    expert, DomainError with the reason and nothing changes: the panel keeps its size and rules."""
    _authorise(by, "evaluation.replace_member", member)
    if status not in (MemberStatus.DECLINED, MemberStatus.RECUSED):
        raise DomainError(_("状态只能是拒绝参加或申请回避。"), code="status")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请写明原因。"), code="reason_required")
    from evaluation.services import room

    session = EvaluationSession.objects.filter(drawing_id=member.drawing_id).first()
    if status == MemberStatus.RECUSED and session is not None and not room.recusing():
        # Once the session exists a recusal also voids the member's values and tells the room.
        return room.recuse_member(by=by, session=session, member=member, reason=reason).replaced_by
    member = _lock_member(member)
    drawing = Drawing.objects.select_for_update().get(pk=member.drawing_id)
    if not member.serving:
        raise IllegalTransition(_("该成员已不在评标委员会中。"))
    if drawing.state != DrawingState.DRAWN:
        raise IllegalTransition(_("抽取结果已公布或尚未抽取，不能再替补。"))
    now = timezone.now()
    if status == MemberStatus.DECLINED and now >= drawing.session_starts_at:
        raise DomainError(_("评标已开始，不能再拒绝参加；如有利害关系请在评标室申请回避。"), code="session_started")
    session = EvaluationSession.objects.filter(drawing=drawing).first()
    if session is not None and session.finished_at is not None:
        raise DomainError(_("评标已结束。"), code="session_over")
    member.status, member.status_reason, member.status_changed_at = status, reason, now
    tender_id = member.drawing.lot.tender_id
    if member.kind == MemberKind.REPRESENTATIVE:
        member.save(update_fields=["status", "status_reason", "status_changed_at"])
        record_event(by=by, action="evaluation.member_replace", obj=member, tender_id=tender_id,
                     payload={"drawing": drawing.pk, "seat": member.seat, "kind": member.kind, "status": status, "reason": reason})
        return None
    if member.venue == "away":
        raise DomainError(_("异地专家由合作平台从其专家库中补抽，请通过场地预约办理。"), code="away_member")
    declined_id = str(member.expert.public_id)
    try:
        rounds = stored_rounds(drawing)
        request = stored_request(drawing)
        algorithm.panel(rounds)
    except (KeyError, TypeError, ValueError):
        raise DomainError(_("该抽取没有可复算的抽取记录，无法从中补抽；请交易中心重新组织抽取。"), code="no_drawing_record") from None
    try:
        new_round = algorithm.replace(bytes.fromhex(drawing.seed_hex), request, drawing.eligible, rounds, [declined_id])
    except algorithm.DrawingRefused as refused:
        raise DomainError(_("无法补抽替补专家，评标委员会不能按规定组成：%(reasons)s") % {
            "reasons": "；".join(_(r.template) % r.params if r.params else _(r.template) for r in refused.reasons)},
            code="no_replacement") from None
    (pick,) = new_round.picks
    substitute = Expert.objects.get(public_id=pick.expert)
    number = len(rounds)
    drawing.rounds = [*drawing.rounds, new_round.to_json()]
    drawing.save(update_fields=["rounds"])
    new_member = PanelMember.objects.create(drawing=drawing, kind=MemberKind.EXPERT, expert=substitute, user_id=substitute.user_id,
                                            specialty=pick.specialty, seat=member.seat, round=number, venue=member.venue)
    member.replaced_by = new_member
    member.save(update_fields=["status", "status_reason", "status_changed_at", "replaced_by"])
    record_event(by=by, action="evaluation.member_replace", obj=member, tender_id=tender_id, payload={
        "drawing": drawing.pk, "seat": member.seat, "kind": member.kind, "status": status, "reason": reason,
        "round": number, "declined": declined_id, "replacement": pick.expert, "rounds_json": new_round.to_json(),
    })
    return new_member


def away_seat_numbers(drawing: Drawing, partner_region: str) -> list[tuple[int, str]]:
    """[(seat number, specialty)] of the away seats `partner_region` fills in `drawing`: away seats
    come after the home experts' seats, in the order of drawing.away_seats."""
    home = sum(int(slot["count"]) for slot in drawing.slots)
    result, number = [], home
    for entry in drawing.away_seats or []:
        for _n in range(int(entry["count"])):
            number += 1
            if entry["partner"] == partner_region:
                result.append((number, entry["specialty"]))
    return result


@transaction.atomic
def away_members_seat(*, by: Actor, lot: Lot, partner_region: str, assignment: str, seats: list[dict]) -> list[PanelMember]:
    """Seat the away experts a partner platform drew for `lot` (its signed assignment, verified by
    crossregion before this is called): `seats` [{"specialty", "expert_id", "public_jwk"}]. They fill
    the away seats the lot's drawing reserved for that partner (`away_seats`), so the panel rules
    checked at the request hold over the whole panel; any other count or specialties is refused
    with the reason, nothing changes. Seating the same experts again returns them (idempotent)."""
    _authorise(by, "evaluation.request_drawing", lot)
    drawing = (Drawing.objects.select_for_update(of=("self",)).select_related("lot__tender")
               .filter(lot=lot, state__in=ACTIVE_DRAWING_STATES).order_by("-requested_at").first())
    if drawing is None or drawing.state != DrawingState.DRAWN:
        raise IllegalTransition(_("本标段的专家尚未抽取（或结果已公布），不能安排异地专家入座。"), code="drawing_state")
    reserved = away_seat_numbers(drawing, partner_region)
    if not reserved:
        raise DomainError(_("本标段的抽取没有为该合作平台预留异地专家席位。"), code="no_away_seats")
    wanted = sorted(specialty for _n, specialty in reserved)
    offered = sorted(str(seat.get("specialty", "")) for seat in seats)
    if wanted != offered:
        raise DomainError(_("合作平台指派的专家（%(offered)s）与预留的异地席位（%(wanted)s）不一致，评标委员会不能按规定组成。") % {
            "offered": "、".join(offered) or "0", "wanted": "、".join(wanted)}, code="assignment_mismatch")
    ids = [str(seat.get("expert_id", "")) for seat in seats]
    if len(set(ids)) != len(ids) or not all(ids):
        raise DomainError(_("合作平台指派的专家编号重复或为空。"), code="assignment_mismatch")
    current = list(drawing.members.filter(venue="away", remote_region=partner_region, status__in=SERVING).order_by("seat"))
    if current:
        if sorted(m.remote_expert_id for m in current) == sorted(ids):
            return current
        raise DomainError(_("该合作平台的异地专家已入座；更换须由合作平台补抽。"), code="already_seated")
    reasons = algorithm.check_panel_rules(stored_request(drawing))
    if reasons:
        raise _refused(algorithm.DrawingRefused(reasons))
    remaining = list(reserved)
    members = []
    for seat in seats:
        number, specialty = next((n, s) for n, s in remaining if s == seat["specialty"])
        remaining.remove((number, specialty))
        members.append(PanelMember.objects.create(
            drawing=drawing, kind=MemberKind.EXPERT, specialty=specialty, seat=number, round=0, venue="away",
            remote_region=partner_region, remote_expert_id=str(seat["expert_id"]), remote_public_jwk=seat.get("public_jwk") or {},
            remote_assignment=assignment,
        ))
    record_event(by=by, action="evaluation.away_members_seat", obj=drawing, tender_id=lot.tender_id, payload={
        "lot": lot.pk, "partner": partner_region, "assignment": assignment,
        "seats": [{"seat": m.seat, "specialty": m.specialty, "expert": m.remote_expert_id} for m in members],
        "panel_size": drawing.panel_size,
    })
    return members


@transaction.atomic
def away_member_replace(*, by: Actor, member: PanelMember, status: str, reason: str, expert_id: str, public_jwk: dict | None,
                        assignment: str) -> PanelMember:
    """An away member declined or recused and the partner drew a substitute (its next signed
    assignment, verified by crossregion): the member leaves with the reason and the substitute takes
    the same seat (venue away). Same checks as `replace_member`."""
    _authorise(by, "evaluation.replace_member", member)
    member = _lock_member(member)
    drawing = Drawing.objects.select_for_update(of=("self",)).get(pk=member.drawing_id)
    if member.venue != "away" or not member.serving:
        raise IllegalTransition(_("该成员已不在评标委员会中。"), code="not_serving")
    if drawing.state != DrawingState.DRAWN:
        raise IllegalTransition(_("抽取结果已公布或尚未抽取，不能再替补。"), code="drawing_state")
    if status not in (MemberStatus.DECLINED, MemberStatus.RECUSED):
        raise DomainError(_("状态只能是拒绝参加或申请回避。"), code="status")
    if drawing.members.filter(venue="away", remote_region=member.remote_region, remote_expert_id=expert_id).exists():
        raise DomainError(_("替补专家已在本评标委员会中（或曾拒绝参加、回避）。"), code="assignment_mismatch")
    now = timezone.now()
    new_member = PanelMember.objects.create(
        drawing=drawing, kind=MemberKind.EXPERT, specialty=member.specialty, seat=member.seat, round=member.round + 1, venue="away",
        remote_region=member.remote_region, remote_expert_id=expert_id, remote_public_jwk=public_jwk or {}, remote_assignment=assignment,
    )
    member.status, member.status_reason, member.status_changed_at, member.replaced_by = status, reason, now, new_member
    member.save(update_fields=["status", "status_reason", "status_changed_at", "replaced_by"])
    record_event(by=by, action="evaluation.member_replace", obj=member, tender_id=drawing.lot.tender_id, payload={
        "drawing": drawing.pk, "seat": member.seat, "kind": member.kind, "status": status, "reason": reason, "venue": "away",
        "partner": member.remote_region, "declined": member.remote_expert_id, "replacement": expert_id, "assignment": assignment,
    })
    return new_member


@transaction.atomic
def representative_name(*, by: Actor, member: PanelMember, user: User) -> PanelMember:
    """A tenderer representative who declined or recused is replaced by another user of the
    tenderer, whom the tenderer names and centre staff register in the same seat (experts are
    drawn again instead, `replace_member`). Without it the panel could never be complete again."""
    _authorise(by, "evaluation.request_drawing", member.drawing.lot)
    member = _lock_member(member)
    drawing = Drawing.objects.select_for_update(of=("self",)).get(pk=member.drawing_id)
    if member.kind != MemberKind.REPRESENTATIVE or member.serving or member.replaced_by_id is not None:
        raise IllegalTransition(_("只能为拒绝参加或回避、尚未替补的招标人代表指定替补。"), code="not_vacant")
    if drawing.state != DrawingState.DRAWN:
        raise IllegalTransition(_("抽取结果已公布或尚未抽取，不能再替补。"), code="drawing_state")
    session = EvaluationSession.objects.filter(drawing=drawing).first()
    if session is not None and session.finished_at is not None:
        raise DomainError(_("评标已结束。"), code="session_over")
    if user is None or drawing.members.filter(user=user).exists():
        raise DomainError(_("该用户已在本评标委员会中（或曾拒绝参加、回避），不能担任替补招标人代表。"), code="representatives")
    (user,) = _clean_representatives(drawing.lot, 1, [user])
    new_member = PanelMember.objects.create(drawing=drawing, kind=MemberKind.REPRESENTATIVE, user=user, seat=member.seat,
                                            round=member.round + 1, venue=member.venue)
    member.replaced_by = new_member
    member.save(update_fields=["replaced_by"])
    record_event(by=by, action="evaluation.representative_name", obj=member, tender_id=drawing.lot.tender_id,
                 payload={"drawing": drawing.pk, "seat": member.seat, "replaces": member.pk, "member": new_member.pk, "user": user.pk})
    return new_member


@transaction.atomic
def publish_result(*, by: Actor, drawing: Drawing) -> Drawing:
    """The drawing's result is public (called when the candidates are publicised): the seed is
    revealed (audited with its hex) so anyone can re-run the draw, and the panel's names are shown to
    everyone who may see the drawing (R46). Publishing twice changes nothing."""
    _authorise(by, "evaluation.publish_drawing", drawing)
    drawing = Drawing.objects.select_for_update(of=("self",)).select_related("lot").get(pk=drawing.pk)
    if drawing.state == DrawingState.PUBLISHED:
        return drawing
    if drawing.state != DrawingState.DRAWN:
        raise IllegalTransition(_("尚未抽取，不能公布结果。"))
    drawing.seed_revealed = True
    drawing.published_at = timezone.now()
    return fsm_transition(drawing, "publish", by=by, tender_id=drawing.lot.tender_id, payload={
        "seed": drawing.seed_hex, "commitment": drawing.seed_commitment, "rounds": drawing.rounds,
    })
