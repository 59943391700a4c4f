"""The opening's main line: open at the deadline, check in, start decryption with its window,
release keys, close the window, and finish (to evaluation) or fail the lot. Each function is one
action in one transaction with its audit event and its room event (opening/rooms.py).

Rules (DESIGN.md 6 and 7): the opening starts at the deadline itself (L34, E29) and only with at
least 3 bids in force (L28, R44); the host starts decryption only with at least 3 bidders checked
in; keys are accepted only inside the decryption window; a bid not released in time fails as the
bidder's doing (E31: counted as revoked) and the opening goes on for the others.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify
from accounts.permissions import require
from audit.actor import Actor
from audit.services import fsm_transition, record_event
from bidding import sealing
from bidding.models import VALID_BID_STATUSES, Bid
from config.errors import DeadlineError, DomainError, IllegalTransition
from opening.models import BidOpening, CheckIn, DecryptionStatus, FailureSide, OpeningSession, SessionState
from opening.rooms import append_event
from tendering.models import Lot, LotState

MIN_BIDS = 3
MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES = 10, 240


def _authorise(by: Actor, action: str, obj) -> None:
    if by.user is None and by.role == "system":
        return
    require(by.user, action, obj)


def _lock(session: OpeningSession) -> OpeningSession:
    return OpeningSession.objects.select_for_update().select_related("lot__tender").get(pk=session.pk)


def room_url(lot) -> str:
    return reverse("opening:room", args=[lot.pk])


def _bidder_name(bid_opening: BidOpening) -> str:
    return bid_opening.bid.bidder.name


@transaction.atomic
def opening_open(*, by: Actor, lot: Lot) -> OpeningSession:
    """开标: at the deadline, a closed lot with at least 3 bids in force opens its room. (With
    fewer, the chronograph fails the lot instead.)"""
    _authorise(by, "tendering.manage_tender", lot.tender)
    lot = Lot.objects.select_for_update().select_related("tender").get(pk=lot.pk)
    now = timezone.now()
    if lot.tender.bid_deadline is None or now < lot.tender.bid_deadline:
        raise DeadlineError(_("投标截止时间未到，不能开标。"))
    bids = list(Bid.objects.filter(lot=lot, status__in=VALID_BID_STATUSES).select_related("bidder").order_by("received_at"))
    if len(bids) < MIN_BIDS:
        raise DomainError(_("有效投标文件少于3份（%(count)s份），不予开标（L28/R44）。") % {"count": len(bids)}, code="too_few_bids")
    lot.state_changed_at = now
    fsm_transition(lot, "start_opening", by=by, tender_id=lot.tender_id, payload={"bids": len(bids)})
    session = OpeningSession.objects.create(lot=lot, opened_at=now)
    BidOpening.objects.bulk_create([BidOpening(session=session, bid=bid) for bid in bids])
    record_event(by=by, action="opening.open", obj=session, tender_id=lot.tender_id, payload={"lot": lot.pk, "bids": [bid.pk for bid in bids]})
    append_event(session, "opened", {"bids": len(bids), "opened_at": now.isoformat()})
    notify(
        organisations=[bid.bidder_id for bid in bids],
        subject=_("开标室已开放：%(lot)s") % {"lot": lot},
        body=_("请进入开标室签到，并在主持人开始解密后用本单位的密钥文件解密自己的投标文件。"),
        url=room_url(lot),
    )
    return session


@transaction.atomic
def opening_check_in(*, by: Actor, session: OpeningSession) -> CheckIn:
    """签到, before decryption starts (a bidder arriving later may still check in and decrypt in the
    window, recorded with its time)."""
    _authorise(by, "opening.participate", session)
    session = _lock(session)
    if session.state not in (SessionState.CHECKIN, SessionState.DECRYPTING):
        raise IllegalTransition(_("开标已进入“%(state)s”阶段，不能再签到。") % {"state": session.get_state_display()}, code="checkin_closed")
    organisation = by.user.organisation
    existing = CheckIn.objects.filter(session=session, organisation=organisation).first()
    if existing is not None:
        return existing
    checkin = CheckIn.objects.create(session=session, organisation=organisation, user=by.user, checked_in_at=timezone.now(), ip=by.ip or "")
    record_event(by=by, action="opening.check_in", obj=session, tender_id=session.lot.tender_id, payload={"organisation": organisation.pk})
    append_event(session, "checked_in", {"organisation": organisation.pk, "name": organisation.name, "at": checkin.checked_in_at.isoformat(),
                                         "late": session.state == SessionState.DECRYPTING})
    return checkin


def _checked_in_before_start(session: OpeningSession) -> int:
    return session.checkins.count()


@transaction.atomic
def opening_start_decryption(*, by: Actor, session: OpeningSession, window_minutes: int | None = None) -> OpeningSession:
    """The host starts decryption: the window (default 60 minutes) starts counting down."""
    _authorise(by, "opening.host", session)
    session = _lock(session)
    if session.state != SessionState.CHECKIN:
        raise IllegalTransition(_("解密已开始或开标已结束。"), code="already_started")
    checked_in = _checked_in_before_start(session)
    if checked_in < MIN_BIDS:
        raise DomainError(
            _("签到的投标人只有 %(count)s 家，少于3家，开标不能进行。请记录原因后结束本次开标。") % {"count": checked_in},
            code="too_few_checked_in",
        )
    minutes = session.window_minutes if window_minutes is None else window_minutes
    if not isinstance(minutes, int) or not MIN_WINDOW_MINUTES <= minutes <= MAX_WINDOW_MINUTES:
        raise DomainError(
            _("解密时限应为 %(min)s 至 %(max)s 分钟。") % {"min": MIN_WINDOW_MINUTES, "max": MAX_WINDOW_MINUTES}, code="bad_window"
        )
    now = timezone.now()
    session.host = by.user
    session.window_minutes = minutes
    session.decryption_started_at = now
    session.window_ends_at = now + timedelta(minutes=minutes)
    absent = list(session.bids.exclude(bid__bidder_id__in=session.checkins.values("organisation_id")).values_list("bid__bidder__name", flat=True))
    fsm_transition(session, "start_decryption", by=by, tender_id=session.lot.tender_id,
                   payload={"window_minutes": minutes, "window_ends_at": session.window_ends_at.isoformat(), "checked_in": checked_in, "absent": absent})
    append_event(session, "decryption_started", {"window_ends_at": session.window_ends_at.isoformat(), "window_minutes": minutes, "absent": absent})
    return session


@transaction.atomic
def opening_abort(*, by: Actor, session: OpeningSession, reason: str) -> OpeningSession:
    """Fewer than 3 bidders checked in: the opening does not proceed; the host records why and the
    lot fails (流标) with that reason, to be re-tendered."""
    from tendering.services import lot_fail

    _authorise(by, "opening.host", session)
    session = _lock(session)
    if session.state != SessionState.CHECKIN:
        raise IllegalTransition(_("解密已开始，不能以签到不足为由结束开标。"), code="already_started")
    if _checked_in_before_start(session) >= MIN_BIDS:
        raise DomainError(_("已有3家及以上投标人签到，开标应当进行。"), code="enough_checked_in")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请写明开标不能进行的原因。"), code="reason_required")
    session.aborted_reason = reason
    session.finished_at = timezone.now()
    fsm_transition(session, "abort", by=by, tender_id=session.lot.tender_id, payload={"reason": reason, "checked_in": _checked_in_before_start(session)})
    lot_fail(by=Actor.system("opening"), lot=session.lot, reason=_("开标时签到的投标人少于3家：%(reason)s") % {"reason": reason})
    append_event(session, "aborted", {"reason": reason})
    return session


def _check_window(session: OpeningSession, now) -> None:
    if session.state == SessionState.CHECKIN:
        raise DomainError(_("主持人尚未开始解密，现在不能释放密钥。"), code="opening_not_started")
    if session.state != SessionState.DECRYPTING or (session.window_ends_at is not None and now >= session.window_ends_at):
        raise DeadlineError(_("解密时限已过，不再接受密钥。"), code="window_closed")


def check_data_key(bid: Bid, data_key: bytes) -> None:
    """The released key must be the one the bidder committed to in its signed header."""
    salt = bytes.fromhex(bid.header["salt"])
    commitment = bytes.fromhex(bid.header["key_commitment"])
    if not isinstance(data_key, bytes) or len(data_key) != 32 or sealing.key_commitment(data_key, salt) != commitment:
        raise DomainError(_("这不是该投标文件的数据密钥（与密封头中的密钥承诺不符）。请确认使用了密封时的密钥文件。"), code="wrong_key")


@transaction.atomic
def opening_release_key(*, by: Actor, bid_opening: BidOpening, data_key: bytes, via: str = "bidder") -> BidOpening:
    """The bidder releases its bid's data key (unwrapped on its own machine) inside the window; the
    platform then decrypts in the background."""
    from opening import tasks

    bid_opening = BidOpening.objects.select_for_update().select_related("session__lot__tender", "bid__bidder").get(pk=bid_opening.pk)
    session = bid_opening.session
    if via == "bidder":
        _authorise(by, "opening.participate", session)
        if by.user.organisation_id != bid_opening.bid.bidder_id:
            raise DomainError(_("只能释放本单位投标文件的密钥。"), code="not_your_bid")
    session = _lock(session)
    now = timezone.now()
    _check_window(session, now)
    if bid_opening.status != DecryptionStatus.AWAITING:
        raise IllegalTransition(_("该投标文件的密钥已经释放过。"), code="already_released")
    check_data_key(bid_opening.bid, data_key)
    bid_opening.data_key = data_key
    bid_opening.status = DecryptionStatus.RELEASED
    bid_opening.released_at = now
    bid_opening.released_by = by.user
    bid_opening.released_via = via
    bid_opening.save(update_fields=["data_key", "status", "released_at", "released_by", "released_via"])
    record_event(by=by, action="opening.release_key", obj=bid_opening.bid, tender_id=session.lot.tender_id,
                 payload={"bid": bid_opening.bid_id, "via": via})
    append_event(session, "key_released", {"bid": bid_opening.bid_id, "bidder": _bidder_name(bid_opening), "via": via})
    pk = bid_opening.pk
    transaction.on_commit(lambda: tasks.decrypt_bid.enqueue(pk))
    return bid_opening


def _unresolved(session: OpeningSession):
    return session.bids.filter(status__in=(DecryptionStatus.RELEASED, DecryptionStatus.DECRYPTING))


@transaction.atomic
def opening_close_window(*, by: Actor, session: OpeningSession) -> OpeningSession:
    """At the end of the window: bids whose key was not released fail as the bidder's doing (E31,
    counted as revoked). Decryption already under way finishes; once nothing is left, the
    decryption phase ends (see `maybe_end_decryption`)."""
    _authorise(by, "opening.host", session)
    session = _lock(session)
    now = timezone.now()
    if session.state != SessionState.DECRYPTING:
        raise IllegalTransition(_("当前不在解密阶段。"), code="not_decrypting")
    all_released = not session.bids.filter(status=DecryptionStatus.AWAITING).exists()
    if now < session.window_ends_at and not all_released:
        raise DeadlineError(_("解密时限未到，仍有投标人未释放密钥。"), code="window_open")
    for bid_opening in session.bids.filter(status=DecryptionStatus.AWAITING).select_related("bid__bidder"):
        bid_opening.status = DecryptionStatus.FAILED
        bid_opening.failure_side = FailureSide.BIDDER
        bid_opening.failure_code = "not_released"
        bid_opening.failure_detail = _("投标人未在解密时限内释放密钥。")
        bid_opening.save(update_fields=["status", "failure_side", "failure_code", "failure_detail"])
        _count_failure(by, bid_opening)
        append_event(session, "decryption_failed", {"bid": bid_opening.bid_id, "bidder": _bidder_name(bid_opening),
                                                     "code": "not_released", "side": FailureSide.BIDDER.value, "detail": bid_opening.failure_detail})
    maybe_end_decryption(by=by, session=session)
    return session


def _count_failure(by: Actor, bid_opening: BidOpening) -> None:
    """E31: record the failed bid as revoked (the bidder's doing) or withdrawn (otherwise)."""
    bid = Bid.objects.select_for_update().get(pk=bid_opening.bid_id)
    target = "revoked" if bid_opening.failure_side == FailureSide.BIDDER else "withdrawn"
    previous = bid.status
    Bid.objects.filter(pk=bid.pk).update(status=target)
    record_event(by=by, action="opening.decryption_failed", obj=bid, tender_id=bid_opening.session.lot.tender_id,
                 payload={"bid": bid.pk, "code": bid_opening.failure_code, "side": bid_opening.failure_side,
                          "detail": bid_opening.failure_detail, "from": previous, "to": target})


def maybe_end_decryption(*, by: Actor, session: OpeningSession) -> bool:
    """End the decryption phase once the window is over (or every key is in) and no bid is still
    being decrypted. Called after each result and by the chronograph. Must run in a transaction
    holding the session's lock."""
    if session.state != SessionState.DECRYPTING:
        return False
    window_over = timezone.now() >= session.window_ends_at
    awaiting = session.bids.filter(status=DecryptionStatus.AWAITING).exists()
    if (awaiting and not window_over) or _unresolved(session).exists():
        return False
    if awaiting:
        return False  # opening_close_window fails them first
    session.decryption_closed_at = timezone.now()
    valid = session.bids.filter(status=DecryptionStatus.OPENED).count()
    fsm_transition(session, "close_decryption", by=by, tender_id=session.lot.tender_id, payload={"valid": valid})
    append_event(session, "decryption_ended", {"valid": valid, "total": session.bids.count()})
    return True


def valid_bid_count(session: OpeningSession) -> int:
    return session.bids.filter(status=DecryptionStatus.OPENED).count()


@transaction.atomic
def opening_finish(*, by: Actor, session: OpeningSession) -> OpeningSession:
    """The opening ends and the lot goes to evaluation. (With fewer than 3 valid bids the host may
    instead fail the lot, `opening_fail`; the panel may also reject all bids, P27.)"""
    _authorise(by, "opening.host", session)
    session = _lock(session)
    _check_can_end(session)
    session.finished_at = timezone.now()
    fsm_transition(session, "finish", by=by, tender_id=session.lot.tender_id, payload={"valid": valid_bid_count(session), "to": "evaluation"})
    lot = Lot.objects.select_for_update().get(pk=session.lot_id)
    lot.state_changed_at = session.finished_at
    fsm_transition(lot, "start_evaluation", by=by, tender_id=lot.tender_id, payload={"valid": valid_bid_count(session)})
    append_event(session, "finished", {"to": "evaluation", "valid": valid_bid_count(session)})
    return session


@transaction.atomic
def opening_fail(*, by: Actor, session: OpeningSession, reason: str) -> OpeningSession:
    """Fewer than 3 valid bids after decryption: the host may fail the lot, with reasons."""
    from tendering.services import lot_fail

    _authorise(by, "opening.host", session)
    session = _lock(session)
    _check_can_end(session)
    valid = valid_bid_count(session)
    if valid >= MIN_BIDS:
        raise DomainError(_("有效投标文件有 %(count)s 份，不能以有效投标不足为由流标。") % {"count": valid}, code="enough_valid_bids")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("流标必须说明理由。"), code="reason_required")
    session.finished_at = timezone.now()
    fsm_transition(session, "finish", by=by, tender_id=session.lot.tender_id, payload={"valid": valid, "to": "failed", "reason": reason})
    lot_fail(by=Actor.system("opening"), lot=session.lot, reason=reason)
    append_event(session, "finished", {"to": "failed", "valid": valid, "reason": reason})
    return session


def _check_can_end(session: OpeningSession) -> None:
    from opening.services import record_ready_to_end

    if session.state not in (SessionState.DECRYPTED, SessionState.RECORD):
        raise IllegalTransition(_("解密尚未结束，开标不能结束。"), code="decryption_not_ended")
    if session.objections_open:
        raise IllegalTransition(_("异议期尚未关闭。"), code="objections_open")
    problem = record_ready_to_end(session)
    if problem:
        raise IllegalTransition(problem, code="record_not_published")
