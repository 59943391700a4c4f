"""The custodial fallback (托管密钥应急解密), k of n: docs/custodial-fallback.md.

- `custodian_key_register`: a custodian (centre staff or regulator) registers its public key.
- `custodial_arrangement_create`: before the tender takes bids, its owner names n custodians and k;
  the platform makes a P-256 key pair, publishes the public key, splits the private scalar with
  Shamir, wraps share i to custodian i's key, keeps only the wrapped shares and a salted hash of
  each, and forgets the private key.
- `custodial_fallback_request`: in the decryption window, the host asks for one bid whose bidder
  cannot decrypt to be opened with the custodial key.
- `custodial_share_package`: only then does a custodian get its wrapped share, to open with its
  own key file (opening/custodian_tool.py); before the opening the platform hands out nothing.
- `custodial_share_release`: a custodian sends its share; it is checked against its salted hash
  and held until k are in. The k-th share recovers the private key in memory, which unwraps the
  custodial copy of every requested bid's data key; each goes to `opening_release_key(via=
  "custodial")` (the key commitment check and the decryption are the bidder release's own). The
  held shares are then erased and the key is dropped, never stored.

Every step is an audit event; k − 1 shares recover nothing (opening/shamir.py).
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.asymmetric import ec
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify
from accounts.permissions import require
from audit.actor import Actor
from audit.services import record_event
from bidding import keyfile, sealing
from bidding.models import Bid, BidUpload
from bidding.sealing import header as sealed_header
from config.errors import DeadlineError, DomainError, IllegalTransition
from opening import custody, rules_custodial, shamir
from opening.models import BidOpening, DecryptionStatus, OpeningSession, SessionState
from opening.models_custodial import (
    CustodialArrangement,
    CustodialFallback,
    CustodialShare,
    CustodianKey,
    CustodianKeyStatus,
    FallbackStatus,
)
from opening.rooms import append_event
from tendering.models import Tender, TenderState

MIN_THRESHOLD = 2  # one custodian alone must never be able to open bids
MAX_CUSTODIANS = 15
ARRANGEABLE_STATES = (TenderState.DRAFT, TenderState.SUBMITTED, TenderState.RETURNED, TenderState.APPROVED, TenderState.PUBLISHED)


# --- custodians' keys ----------------------------------------------------------------------------


@transaction.atomic
def custodian_key_register(*, by: Actor, public_jwk: dict) -> CustodianKey:
    """Register the acting custodian's public key (a P-256 JWK: the decryption key of a key file
    made with `python -m bidding.tool keygen`). A new key replaces the previous one for future
    arrangements; shares already wrapped stay wrapped to the key they were made for."""
    require(by.user, "opening.register_custodian_key")
    try:
        public_key = keyfile.public_key_from_jwk(public_jwk)
    except keyfile.KeyFileError:
        raise DomainError(_("公钥无效：应为 P-256 公钥的 JWK（不能是私钥）。"), code="invalid_key") from None
    fingerprint = keyfile.fingerprint(public_key)
    if CustodianKey.objects.filter(fingerprint=fingerprint).exists():
        raise DomainError(_("该公钥已经登记过，不能再次登记。"), code="key_registered")
    now = timezone.now()
    previous = CustodianKey.objects.select_for_update().filter(user=by.user, status=CustodianKeyStatus.ACTIVE).first()
    if previous is not None:
        previous.status, previous.revoked_at = CustodianKeyStatus.REVOKED, now
        previous.save(update_fields=["status", "revoked_at"])
    key = CustodianKey.objects.create(user=by.user, public_jwk=keyfile.public_jwk(public_key), fingerprint=fingerprint, registered_at=now)
    record_event(by=by, action="custodiankey.register", obj=key,
                 payload={"fingerprint": fingerprint, "replaces": previous.fingerprint if previous else None})
    return key


# --- the arrangement, at publication -------------------------------------------------------------


@transaction.atomic
def custodial_arrangement_create(*, by: Actor, tender: Tender, k: int, custodians: list) -> CustodialArrangement:
    """Enable the custodial fallback for `tender`: k of the n named custodians will be able to open,
    at the opening, a bid sealed also to the tender's custodial key. Done by the tender's owner
    before publication (so the key is announced with the tender), at the latest before any bid
    upload has started; it cannot be changed afterwards."""
    require(by.user, "tendering.manage_tender", tender)
    tender = Tender.objects.select_for_update().get(pk=tender.pk)
    if CustodialArrangement.objects.filter(tender=tender).exists():
        raise IllegalTransition(_("该招标项目已设立托管密钥，不能更改。"), code="arrangement_exists")
    if tender.state not in ARRANGEABLE_STATES:
        raise IllegalTransition(_("招标项目已终止，不能设立托管密钥。"), code="tender_closed")
    if tender.bid_deadline is not None and timezone.now() >= tender.bid_deadline:
        raise DeadlineError(_("投标截止时间已过，不能再设立托管密钥。"), code="deadline_passed")
    if Bid.objects.filter(lot__tender=tender).exists() or BidUpload.objects.filter(lot__tender=tender).exists():
        raise IllegalTransition(_("已有投标人开始递交投标文件，不能再设立托管密钥（已密封的投标文件不含托管副本）。"), code="bids_exist")
    users = list(custodians)
    n = len(users)
    if len({user.pk for user in users}) != n:
        raise DomainError(_("同一托管人不能出现两次。"), code="duplicate_custodian")
    if isinstance(k, bool) or not isinstance(k, int) or not MIN_THRESHOLD <= k <= n or n > MAX_CUSTODIANS:
        raise DomainError(
            _("托管人应为 %(min)s 至 %(max)s 人，恢复所需份数 k 应不少于 %(min)s 且不多于托管人数。") % {"min": MIN_THRESHOLD, "max": MAX_CUSTODIANS},
            code="bad_threshold",
        )
    keys = []
    for user in users:
        if not rules_custodial.may_be_custodian(user):
            raise DomainError(_("%(user)s 不能担任托管人：托管人应为交易中心或监管部门的人员。") % {"user": user}, code="not_eligible")
        key = CustodianKey.objects.filter(user=user, status=CustodianKeyStatus.ACTIVE).first()
        if key is None:
            raise DomainError(_("托管人 %(user)s 尚未登记托管公钥。") % {"user": user}, code="no_custodian_key")
        keys.append(key)

    # The key pair lives only in this function: the private scalar leaves it as wrapped shares.
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_key = private_key.public_key()
    custodial_fp = sealing.fingerprint(public_key)
    shares = shamir.split(private_key.private_numbers().private_value, k, n)
    del private_key
    arrangement = CustodialArrangement.objects.create(
        tender=tender, threshold=k, custodian_count=n, public_jwk=keyfile.public_jwk(public_key), fingerprint=custodial_fp,
        created_by=by.user, created_at=timezone.now(),
    )
    rows = []
    for share, user, key in zip(shares, users, keys):
        binding = _binding(arrangement, share.index, key.fingerprint)
        enc, wrapped = custody.wrap_share(share, keyfile.public_key_from_jwk(key.public_jwk), binding)
        salt = os.urandom(custody.SALT_BYTES)
        rows.append(CustodialShare(
            arrangement=arrangement, index=share.index, custodian=user, custodian_key=key, enc=enc.hex(), wrapped=wrapped.hex(),
            commitment_salt=salt.hex(), commitment=custody.commitment(salt, share).hex(),
        ))
    del shares
    CustodialShare.objects.bulk_create(rows)
    record_event(by=by, action="custodial.arrangement_create", obj=arrangement, tender_id=tender.pk, payload={
        "threshold": k, "custodians": n, "fingerprint": custodial_fp,
        "shares": [{"index": row.index, "custodian": row.custodian.pk, "custodian_key": row.custodian_key.fingerprint} for row in rows],
    })
    return arrangement


def _binding(arrangement: CustodialArrangement, index: int, custodian_key: str) -> custody.ShareBinding:
    return custody.ShareBinding(
        tender=str(arrangement.tender_id), index=index, threshold=arrangement.threshold, custodians=arrangement.custodian_count,
        custodian_key=custodian_key, custodial_key=arrangement.fingerprint,
    )


def arrangement_of(tender: Tender) -> CustodialArrangement:
    arrangement = CustodialArrangement.objects.filter(tender_id=tender.pk).first()
    if arrangement is None:
        raise DomainError(_("该招标项目发布时未设立托管密钥，不能使用托管解密。"), code="no_arrangement")
    return arrangement


# --- at the opening ------------------------------------------------------------------------------


def _decrypting_sessions(tender_id: int):
    return OpeningSession.objects.filter(lot__tender_id=tender_id, state=SessionState.DECRYPTING, window_ends_at__gt=timezone.now())


def _open_fallbacks(tender_id: int):
    """Requests that the custodial key can still serve: the bid is awaiting its key and its
    session's window is open."""
    return CustodialFallback.objects.filter(
        bid_opening__session__lot__tender_id=tender_id, status=FallbackStatus.REQUESTED, bid_opening__status=DecryptionStatus.AWAITING,
        bid_opening__session__state=SessionState.DECRYPTING, bid_opening__session__window_ends_at__gt=timezone.now(),
    )


def _check_opening_started(tender_id: int) -> None:
    """Nothing of the fallback works before the opening has started (the host started decryption)
    or after its window: the same moments as a bidder's own release."""
    if not _decrypting_sessions(tender_id).exists():
        raise DomainError(_("开标尚未开始解密或解密时限已过，托管解密不可用。"), code="opening_not_started")


def _custodial_recipient(bid: Bid, arrangement: CustodialArrangement):
    recipients = bid.header.get("recipients") or []
    return next((r for r in recipients if r.get("role") == "custodial" and r.get("key_fingerprint") == arrangement.fingerprint), None)


@transaction.atomic
def custodial_fallback_request(*, by: Actor, bid_opening: BidOpening, reason: str) -> CustodialFallback:
    """The host marks a bid whose bidder cannot decrypt it (lost key file, forgotten passphrase) for
    opening with the custodial key, in the decryption window. The bid must carry a custodial copy
    of its data key, wrapped to this tender's custodial key."""
    bid_opening = BidOpening.objects.select_for_update().select_related("session__lot__tender", "bid__bidder").get(pk=bid_opening.pk)
    session = bid_opening.session
    require(by.user, "opening.host", session)
    tender = session.lot.tender
    arrangement = CustodialArrangement.objects.select_for_update().filter(tender=tender).first()
    if arrangement is None:
        arrangement_of(tender)  # raises no_arrangement
    if session.state == SessionState.CHECKIN:
        raise DomainError(_("开标尚未开始解密或解密时限已过，托管解密不可用。"), code="opening_not_started")
    if session.state != SessionState.DECRYPTING or timezone.now() >= session.window_ends_at:
        raise DeadlineError(_("解密时限已过，不能再申请托管解密。"), code="window_closed")
    if bid_opening.status != DecryptionStatus.AWAITING:
        raise IllegalTransition(_("该投标文件不在待解密状态，无需托管解密。"), code="not_awaiting")
    if CustodialFallback.objects.filter(bid_opening=bid_opening).exists():
        raise IllegalTransition(_("该投标文件已申请托管解密。"), code="already_requested")
    if _custodial_recipient(bid_opening.bid, arrangement) is None:
        raise DomainError(_("该投标文件密封时未包含本项目托管公钥的密钥副本，不能托管解密。"), code="no_custodial_copy")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请写明投标人不能自行解密的原因。"), code="reason_required")
    if not _open_fallbacks(tender.pk).exists():
        _discard_pending(arrangement)  # shares left from an earlier round that never reached k
    fallback = CustodialFallback.objects.create(bid_opening=bid_opening, reason=reason, requested_by=by.user, requested_at=timezone.now())
    record_event(by=by, action="custodial.fallback_request", obj=bid_opening.bid, tender_id=tender.pk,
                 payload={"bid": bid_opening.bid_id, "reason": reason})
    append_event(session, "custodial_fallback_requested", {
        "bid": bid_opening.bid_id, "bidder": bid_opening.bid.bidder.name, "reason": reason,
        "threshold": arrangement.threshold, "released": _pending(arrangement).count(),
    })
    custodians = CustodialShare.objects.filter(arrangement=arrangement).values_list("custodian__organisation_id", flat=True)
    notify(
        organisations=[org for org in custodians if org is not None],
        subject=_("请释放托管密钥份额：%(lot)s") % {"lot": session.lot},
        body=_("主持人申请以托管密钥解密一份投标文件。请下载本人的托管份额，用本人的密钥文件在本机解出后，在开标室释放。"),
        url=_room_url(session),
    )
    return fallback


def custodial_share_package(*, by: Actor, tender: Tender) -> dict:
    """The acting custodian's wrapped share, to open with its own key file. Handed out only once the
    opening has started and a bid awaits the fallback: before that nobody, custodians included,
    can gather k shares through the platform."""
    arrangement = arrangement_of(tender)
    require(by.user, "opening.custodian", arrangement)
    _check_opening_started(tender.pk)
    if not _open_fallbacks(tender.pk).exists():
        raise DomainError(_("目前没有待托管解密的投标文件。"), code="no_fallback_requested")
    share = CustodialShare.objects.select_related("custodian_key").get(arrangement=arrangement, custodian=by.user)
    binding = _binding(arrangement, share.index, share.custodian_key.fingerprint)
    return custody.package(binding, bytes.fromhex(share.enc), bytes.fromhex(share.wrapped))


def _pending(arrangement: CustodialArrangement):
    return CustodialShare.objects.filter(arrangement=arrangement, pending__isnull=False)


def _discard_pending(arrangement: CustodialArrangement) -> int:
    return CustodialShare.objects.filter(arrangement=arrangement, pending__isnull=False).update(pending=None)


@transaction.atomic
def custodial_share_release(*, by: Actor, tender: Tender, share: bytes) -> dict:
    """A custodian releases its share (opened on its own machine). Checked against the share's
    salted hash, held until k are in; the k-th recovers the key and releases every requested
    bid's data key. Returns {"released", "threshold", "recovered", "bids"}."""
    arrangement = arrangement_of(tender)
    require(by.user, "opening.custodian", arrangement)
    arrangement = CustodialArrangement.objects.select_for_update().get(pk=arrangement.pk)
    _check_opening_started(tender.pk)
    if not _open_fallbacks(tender.pk).exists():
        raise DomainError(_("目前没有待托管解密的投标文件，不接受托管份额。"), code="no_fallback_requested")
    row = CustodialShare.objects.select_for_update().get(arrangement=arrangement, custodian=by.user)
    if row.pending is not None:
        raise IllegalTransition(_("您的托管份额已经释放过，正在等待其他托管人。"), code="already_released")
    try:
        value = shamir.Share.from_bytes(row.index, share)
    except shamir.ShamirError:
        value = None
    if value is None or not custody.matches_commitment(bytes.fromhex(row.commitment_salt), value, bytes.fromhex(row.commitment)):
        raise DomainError(_("该份额与登记的托管份额不符，未被接受。请确认使用了本人的密钥文件和本项目的份额。"), code="bad_share")
    now = timezone.now()
    row.pending, row.released_at, row.releases = share, now, row.releases + 1
    row.save(update_fields=["pending", "released_at", "releases"])
    released = _pending(arrangement).count()
    record_event(by=by, action="custodial.share_release", obj=arrangement, tender_id=tender.pk,
                 payload={"index": row.index, "custodian": by.user_id, "released": released, "threshold": arrangement.threshold})
    sessions = _sessions_with_open_fallbacks(tender.pk)
    for session in sessions:
        append_event(session, "custodial_share_released", {"index": row.index, "custodian": str(by.user), "released": released,
                                                             "threshold": arrangement.threshold})
    result = {"released": released, "threshold": arrangement.threshold, "recovered": False, "bids": []}
    if released >= arrangement.threshold:
        result.update(_recover_and_release(by, arrangement, sessions))
    return result


def _sessions_with_open_fallbacks(tender_id: int) -> list[OpeningSession]:
    ids = _open_fallbacks(tender_id).values_list("bid_opening__session_id", flat=True)
    return list(OpeningSession.objects.filter(pk__in=ids).order_by("pk"))


def _recover_and_release(by: Actor, arrangement: CustodialArrangement, sessions: list[OpeningSession]) -> dict:
    """k shares are in: recover the private key in memory, unwrap each requested bid's custodial
    copy and release it as the bidder would, then erase the held shares. Nothing is stored."""
    rows = list(_pending(arrangement).order_by("index"))
    points = [shamir.Share.from_bytes(row.index, bytes(row.pending)) for row in rows]
    scalar = shamir.combine(points)
    indices = [row.index for row in rows]
    _discard_pending(arrangement)
    private_key = ec.derive_private_key(scalar, ec.SECP256R1()) if 1 <= scalar < shamir.Q else None
    del scalar, points
    if private_key is None or sealing.fingerprint(private_key.public_key()) != arrangement.fingerprint:
        # Cannot happen with shares that match their commitments, unless the stored shares were altered.
        record_event(by=by, action="custodial.key_recover_fail", obj=arrangement, tender_id=arrangement.tender_id, payload={"indices": indices})
        for session in sessions:
            append_event(session, "custodial_recovery_failed", {})
        return {"recovered": False}
    arrangement.recoveries += 1
    arrangement.save(update_fields=["recoveries"])
    fallbacks = list(_open_fallbacks(arrangement.tender_id).select_related("bid_opening__bid__bidder", "bid_opening__session").order_by("pk"))
    record_event(by=by, action="custodial.key_recover", obj=arrangement, tender_id=arrangement.tender_id,
                 payload={"indices": indices, "fingerprint": arrangement.fingerprint, "bids": [f.bid_opening.bid_id for f in fallbacks]})
    for session in sessions:
        bids = [f.bid_opening.bid_id for f in fallbacks if f.bid_opening.session_id == session.pk]
        append_event(session, "custodial_key_recovered", {"bids": bids})
    released = []
    for fallback in fallbacks:
        if _release_one(by, fallback, private_key):
            released.append(fallback.bid_opening.bid_id)
    del private_key
    _settle_stale_fallbacks(by, arrangement.tender_id)
    return {"recovered": True, "bids": released}


def _release_one(by: Actor, fallback: CustodialFallback, private_key: ec.EllipticCurvePrivateKey) -> bool:
    from opening.services.core import opening_release_key

    bid_opening = fallback.bid_opening
    bid = bid_opening.bid
    tender_id = bid_opening.session.lot.tender_id
    try:
        header = sealed_header.parse_header(sealed_header.canonical_json(bid.header))
        data_key = sealing.unwrap_data_key(header, private_key)
        opening_release_key(by=by, bid_opening=bid_opening, data_key=data_key, via="custodial")
    except (sealing.SealedBidError, DomainError) as error:
        # The custodial copy is not the data key the bid was sealed with (a bidder's doing), or
        # the release was refused: the bid stays awaiting and fails with the window (E31).
        detail = _("托管副本无法解出该投标文件的数据密钥：%(error)s") % {"error": error}
        _resolve(fallback, FallbackStatus.FAILED, detail)
        record_event(by=by, action="custodial.fallback_fail", obj=bid, tender_id=tender_id,
                     payload={"bid": bid.pk, "error": type(error).__name__, "detail": str(error)})
        append_event(bid_opening.session, "custodial_fallback_failed", {"bid": bid.pk, "bidder": bid.bidder.name, "detail": detail})
        return False
    _resolve(fallback, FallbackStatus.RELEASED, "")
    record_event(by=by, action="custodial.fallback_use", obj=bid, tender_id=tender_id, payload={"bid": bid.pk})
    return True


def _resolve(fallback: CustodialFallback, status: str, detail: str) -> None:
    fallback.status, fallback.detail, fallback.resolved_at = status, detail, timezone.now()
    fallback.save(update_fields=["status", "detail", "resolved_at"])


def _settle_stale_fallbacks(by: Actor, tender_id: int) -> None:
    """Requests the key can no longer serve: the bidder released its key itself after all, or the
    window closed before k shares came in."""
    stale = CustodialFallback.objects.filter(bid_opening__session__lot__tender_id=tender_id, status=FallbackStatus.REQUESTED).exclude(
        pk__in=_open_fallbacks(tender_id).values("pk")
    )
    for fallback in stale.select_related("bid_opening"):
        _settle(by, fallback, tender_id)


def _settle(by: Actor, fallback: CustodialFallback, tender_id: int) -> None:
    if fallback.bid_opening.status in (DecryptionStatus.RELEASED, DecryptionStatus.DECRYPTING, DecryptionStatus.OPENED):
        _resolve(fallback, FallbackStatus.NOT_NEEDED, _("投标人已自行释放密钥。"))
    else:
        _resolve(fallback, FallbackStatus.FAILED, _("解密时限内未凑齐托管份额。"))
    record_event(by=by, action="custodial.fallback_settle", obj=fallback.bid_opening.bid, tender_id=tender_id,
                 payload={"bid": fallback.bid_opening.bid_id, "status": fallback.status})


def custodial_round_end(session: OpeningSession) -> None:
    """The decryption phase of `session` ended: shares held for its tender that never reached k
    are erased unless another lot of the tender is still decrypting, and its open requests are
    settled. Called on the transition out of decryption (opening/models_custodial.py), inside
    that transition's transaction."""
    arrangement = CustodialArrangement.objects.filter(tender_id=session.lot.tender_id).first()
    if arrangement is None:
        return
    by = Actor.system("custodial")
    still_decrypting = OpeningSession.objects.filter(lot__tender_id=arrangement.tender_id, state=SessionState.DECRYPTING).exclude(pk=session.pk)
    if not still_decrypting.exists():
        erased = _discard_pending(arrangement)
        if erased:
            record_event(by=by, action="custodial.shares_discard", obj=arrangement, tender_id=arrangement.tender_id, payload={"erased": erased})
    requested = CustodialFallback.objects.filter(bid_opening__session=session, status=FallbackStatus.REQUESTED)
    for fallback in requested.select_related("bid_opening"):
        _settle(by, fallback, arrangement.tender_id)


def _room_url(session: OpeningSession) -> str:
    from opening.services.core import room_url

    return room_url(session.lot)


__all__ = [
    "custodian_key_register", "custodial_arrangement_create", "custodial_fallback_request", "custodial_share_package",
    "custodial_share_release", "custodial_round_end", "arrangement_of",
]
