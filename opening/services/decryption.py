"""Decrypting a released bid in the background and reading its price (唱标): see `decrypt`.

One background job per released bid (opening/tasks.py). It

1. claims the bid (released → decrypting) in a short transaction under the bid's row lock, so two
   workers never decrypt the same bid; a bid left "decrypting" by a worker that died (no progress
   for `STALE_AFTER`) is taken over;
2. decrypts the stored sealed file streaming (bidding.sealing.open_sealed: signature under the
   bidder's registered signing key, binding, key commitment, every segment's tag, sizes, hash)
   into the bids storage at ``opened/<tender>/<lot>/<bid>.zip``, hashing the plaintext on the way,
   never holding the whole bid in memory; progress goes to the room ("decryption_progress"),
   throttled, each in its own short transaction;
3. checks the package (bidding.bidpack.verify_pack, streamed), reads bid.json and checks that it
   belongs to this tender, lot and bidder;
4. records the price reading (唱标: room event "price_read", audit "opening.price_read"; P19: where
   the words and the figures differ, the words prevail and the difference is flagged), or the
   failure with its cause (E31, DESIGN.md rule 7: the bidder's doing → counted as revoked, any
   other cause → counted as withdrawn; room event "decryption_failed"), and lets the decryption
   phase end when nothing is left (core.maybe_end_decryption).

Running it again for a bid already opened or failed changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.actor import Actor
from audit.services import record_event
from bidding import bidpack, keyfile, sealing
from bidding.sealing import header as sealed
from opening.models import BidOpening, DecryptionStatus, FailureSide, OpeningSession, RoomEvent
from opening.rooms import append_event
from opening.services import core

logger = logging.getLogger(__name__)

SYSTEM_NAME = "opening-decryption"
# A bid "decrypting" with no progress for this long was left by a worker that died: taken over.
STALE_AFTER = timedelta(minutes=5)
# Room progress events: at most one every PROGRESS_SECONDS and PROGRESS_BYTES of plaintext; after
# PROGRESS_IDLE_SECONDS any progress is reported (it is also the heartbeat of a slow decryption).
PROGRESS_BYTES = 2 << 20
PROGRESS_SECONDS = 0.5
PROGRESS_IDLE_SECONDS = 5.0
_READ = 1 << 20


def actor() -> Actor:
    return Actor.system(SYSTEM_NAME)


def plaintext_name(tender_id: int, lot_id: int, bid_id: int) -> str:
    return f"opened/{tender_id}/{lot_id}/{bid_id}.zip"


class Failure(Exception):
    """The bid cannot be opened; `side` says whose doing it is (E31)."""

    def __init__(self, side: str, code: str, detail: str):
        super().__init__(detail)
        self.side, self.code, self.detail = side, code, detail


class LostClaim(Exception):
    """Another worker took the bid over (this one was thought dead): stop, leave its result alone."""


@dataclass
class Claim:
    """What one worker needs to decrypt one bid, read under the claim's lock."""

    pk: int
    bid_id: int
    session: OpeningSession
    tender_id: int
    lot_id: int
    bidder_id: int
    bidder_name: str
    credit_code: str
    storage_name: str
    sha256: str
    ciphertext_sha256: str
    signing_jwk: dict | None
    data_key: bytes
    total: int
    name: str  # where the plaintext goes; also this worker's claim token

    @property
    def binding(self) -> sealed.Binding:
        return sealed.Binding(tender=str(self.tender_id), lot=str(self.lot_id), bidder=str(self.bidder_id))


def storage():
    return storages["bids"]


# --- the job -------------------------------------------------------------------------------------


def decrypt(bid_opening_id: int) -> str:
    """Decrypt one released bid, check it and read its opening summary. Returns the bid's
    decryption status afterwards ("opened", "failed", or, when there is nothing to do here,
    the status as found: "awaiting", or "decrypting" when another worker has it)."""
    claim = _claim(bid_opening_id)
    if isinstance(claim, str):
        return claim
    return run(claim)


def run(claim: Claim) -> str:
    """Everything after the claim: decrypt, check, record the reading or the failure."""
    bids = storage()
    try:
        try:
            summary, plaintext_sha256 = _open_and_read(claim, bids)
        except (Failure, LostClaim):
            raise
        except Exception as error:  # noqa: BLE001 - anything unforeseen is not the bidder's doing
            logger.exception("decryption of bid %s failed unexpectedly", claim.bid_id)
            detail = _("解密时发生平台内部错误：%(reason)s") % {"reason": _reason(error)}
            raise Failure(FailureSide.OTHER, "unexpected", detail) from error
        return _record_opened(claim, summary, plaintext_sha256)
    except LostClaim:
        _delete_quietly(bids, claim.name)
        return BidOpening.objects.values_list("status", flat=True).get(pk=claim.pk)
    except Failure as failure:
        _delete_quietly(bids, claim.name)
        return _record_failure(claim, failure)


def _claim(bid_opening_id: int) -> Claim | str:
    """Released → decrypting, under the bid's row lock; a stale "decrypting" is taken over.
    Returns the Claim, or the status when there is nothing for this worker to do."""
    bids = storage()
    previous, name = "", ""
    try:
        with transaction.atomic():
            bid_opening = BidOpening.objects.select_for_update(of=("self",)).get(pk=bid_opening_id)
            if bid_opening.status == DecryptionStatus.DECRYPTING:
                last = _last_activity(bid_opening)
                if last is not None and timezone.now() - last < STALE_AFTER:
                    return bid_opening.status
                previous = bid_opening.plaintext_name
                logger.warning("bid opening %s: taking over, no progress since %s", bid_opening.pk, last)
            elif bid_opening.status != DecryptionStatus.RELEASED:
                return bid_opening.status
            bid = bid_opening.bid
            session = OpeningSession.objects.select_related("lot").get(pk=bid_opening.session_id)
            # The name is reserved now (an empty file): it is also this worker's claim token, so a
            # worker taking over always writes elsewhere, and the one taken over notices.
            base = plaintext_name(session.lot.tender_id, session.lot_id, bid.pk)
            name = bids.save(base, ContentFile(b""))
            if name == previous:  # the file of the worker taken over was gone: not its name again
                name = bids.save(base, ContentFile(b""))
            bid_opening.status = DecryptionStatus.DECRYPTING
            bid_opening.progress_bytes = 0
            bid_opening.plaintext_name = name
            bid_opening.plaintext_sha256 = ""
            bid_opening.save(update_fields=["status", "progress_bytes", "plaintext_name", "plaintext_sha256"])
            total = int((bid.header or {}).get("plaintext_size") or 0)
            append_event(session, "decryption_progress", {"bid": bid.pk, "done": 0, "total": total})
            claim = Claim(
                pk=bid_opening.pk, bid_id=bid.pk, session=session,
                tender_id=session.lot.tender_id, lot_id=session.lot_id,
                bidder_id=bid.bidder_id, bidder_name=bid.bidder.name, credit_code=bid.bidder.credit_code,
                storage_name=bid.storage_name, sha256=bid.sha256, ciphertext_sha256=bid.ciphertext_sha256,
                signing_jwk=bid.signing_key.public_jwk if bid.signing_key_id else None,
                data_key=bytes(bid_opening.data_key or b""), total=total, name=name,
            )
    except BaseException:
        if name:
            _delete_quietly(bids, name)
        raise
    if previous and previous != name:
        _delete_quietly(bids, previous)  # what the worker taken over had written
    return claim


def _last_activity(bid_opening: BidOpening):
    """When the worker decrypting this bid last reported progress (its room events are its heartbeat)."""
    last = (
        RoomEvent.objects.filter(room=bid_opening.session.room, kind="decryption_progress")
        .filter(payload__bid=bid_opening.bid_id)
        .order_by("-seq").values_list("created_at", flat=True).first()
    )
    return last or bid_opening.released_at


# --- decrypting and reading ----------------------------------------------------------------------


class _Plaintext:
    """Where open_sealed writes: the storage file, a SHA-256 of the plaintext, and throttled progress."""

    def __init__(self, out, claim: Claim):
        self.out, self.claim = out, claim
        self.digest = hashlib.sha256()
        self.done = self.reported = 0
        self.reported_at = time.monotonic()

    def write(self, data) -> int:
        self.out.write(data)
        self.digest.update(data)
        self.done += len(data)
        now = time.monotonic()
        elapsed = now - self.reported_at
        enough = self.done - self.reported >= PROGRESS_BYTES or elapsed >= PROGRESS_IDLE_SECONDS
        if elapsed >= PROGRESS_SECONDS and enough:
            self.report()
        return len(data)

    def report(self) -> None:
        _progress(self.claim, self.done)
        self.reported, self.reported_at = self.done, time.monotonic()


def _progress(claim: Claim, done: int) -> None:
    """One progress step in its own short transaction; raises LostClaim if another worker took over."""
    with transaction.atomic():
        mine = BidOpening.objects.filter(pk=claim.pk, status=DecryptionStatus.DECRYPTING, plaintext_name=claim.name)
        updated = mine.update(progress_bytes=done)
        if not updated:
            raise LostClaim()
        append_event(claim.session, "decryption_progress", {"bid": claim.bid_id, "done": done, "total": claim.total})


def _open_and_read(claim: Claim, bids) -> tuple[bidpack.BidSummary, str]:
    """Decrypt into the storage, then verify the package there. Raises Failure with its cause."""
    if not claim.storage_name:
        raise Failure(FailureSide.OTHER, "file_missing", _("平台存储中找不到该投标文件。"))
    signing_key = keyfile.public_key_from_jwk(claim.signing_jwk)
    try:
        source = bids.open(claim.storage_name, "rb")
    except OSError as error:
        detail = _("平台存储中找不到该投标文件：%(reason)s") % {"reason": _reason(error)}
        raise Failure(FailureSide.OTHER, "file_missing", detail) from error
    with source, bids.open(claim.name, "wb") as target:
        plaintext = _Plaintext(target, claim)
        try:
            header = sealing.open_sealed(source, plaintext, data_key=claim.data_key, signing_public_key=signing_key,
                                         expected_binding=claim.binding)
        except sealed.SealedBidError as error:
            raise _sealing_failure(claim, bids, error) from error
    if header.ciphertext_sha256 != claim.ciphertext_sha256:
        # A valid sealed file, but not the one received (another version put in its place).
        detail = _("平台存储中的投标文件与递交时接收的文件不一致（密文 SHA-256 不符）。")
        raise Failure(FailureSide.OTHER, "storage_damaged", detail)
    if plaintext.reported != plaintext.done:
        plaintext.report()
    try:
        with bids.open(claim.name, "rb") as package:
            summary = bidpack.verify_pack(package)
    except bidpack.BidPackError as error:
        raise _package_failure(error) from error
    _check_summary_binding(claim, summary)
    return summary, plaintext.digest.hexdigest()


def _sealing_failure(claim: Claim, bids, error: sealed.SealedBidError) -> Failure:
    """E31: segments failing authentication under the committed key, in the very file the bidder
    uploaded (its hashes still those recorded at receipt), are the bidder's doing; a stored file
    that no longer matches what was received is the platform's storage, not the bidder."""
    intact = _stored_file_intact(claim, bids)
    if intact is None:
        return Failure(FailureSide.OTHER, "file_missing", _("平台存储中的投标文件无法读取：%(reason)s") % {"reason": _reason(error)})
    if not intact:
        return Failure(
            FailureSide.OTHER, "storage_damaged",
            _("平台存储中的投标文件在接收后已损坏（SHA-256 与接收时记录的不符），无法解密：%(reason)s") % {"reason": _reason(error)},
        )
    if isinstance(error, sealed.Tampered):
        return Failure(
            FailureSide.BIDDER, "segment_tampered",
            _("投标文件的密文分段在投标人登记的数据密钥下无法通过完整性校验（投标人密封的数据有误）：%(reason)s") % {"reason": _reason(error)},
        )
    return Failure(FailureSide.OTHER, "sealed_check_failed", _("投标文件未通过解密时的核验：%(reason)s") % {"reason": _reason(error)})


def _stored_file_intact(claim: Claim, bids) -> bool | None:
    """Whether the stored file still has the SHA-256 (whole file and ciphertext) recorded when it
    was received; None when it cannot be read."""
    whole, ciphertext = hashlib.sha256(), hashlib.sha256()
    prefix_length, position, head = None, 0, b""
    try:
        with bids.open(claim.storage_name, "rb") as source:
            while chunk := source.read(_READ):
                whole.update(chunk)
                if prefix_length is None:
                    head += chunk[: sealed.PREAMBLE_SIZE - len(head)]
                    if len(head) == sealed.PREAMBLE_SIZE:
                        header_length = int.from_bytes(head[10:14], "big")
                        prefix_length = sealed.PREAMBLE_SIZE + header_length + sealed.SIGNATURE_SIZE
                if prefix_length is not None and position + len(chunk) > prefix_length:
                    ciphertext.update(chunk[max(0, prefix_length - position):])
                position += len(chunk)
    except OSError:
        return None
    if claim.sha256 and whole.hexdigest() != claim.sha256:
        return False
    return ciphertext.hexdigest() == claim.ciphertext_sha256


# What each hostile or broken package is called (all the bidder's doing: E31, counted as revoked).
_PACKAGE_FAILURES: tuple[tuple[tuple[type[bidpack.BidPackError], ...], str, str], ...] = (
    ((bidpack.NotAZip,), "not_a_zip", gettext_lazy("解密得到的内容不是 ZIP 格式的投标文件包")),
    ((bidpack.TooManyEntries,), "too_many_entries", gettext_lazy("投标文件包中的条目过多")),
    ((bidpack.TooLarge, bidpack.CompressionBomb), "zip_bomb", gettext_lazy("投标文件包解压后过大（压缩炸弹）")),
    ((bidpack.UnsafePath,), "unsafe_path", gettext_lazy("投标文件包中有不安全的文件路径（可能越出文件夹）")),
    ((bidpack.SymlinkEntry, bidpack.SpecialEntry), "special_entry", gettext_lazy("投标文件包中有符号链接或设备等特殊文件")),
    ((bidpack.DuplicateEntry,), "duplicate_entry", gettext_lazy("投标文件包中有重名的文件")),
    ((bidpack.EncryptedEntry, bidpack.UnsupportedCompression), "unsupported_entry",
     gettext_lazy("投标文件包中有加密的或使用不支持的压缩方式的文件")),
    ((bidpack.MissingDocument,), "missing_document", gettext_lazy("开标一览表 bid.json 列出的文件在投标文件包中缺失")),
    ((bidpack.UnlistedFile,), "unlisted_file", gettext_lazy("投标文件包中有开标一览表 bid.json 未列出的文件")),
    ((bidpack.DocumentMismatch,), "document_mismatch", gettext_lazy("投标文件包中文件的大小或 SHA-256 与开标一览表 bid.json 不符")),
    ((bidpack.CorruptZip,), "corrupt_zip", gettext_lazy("投标文件包已损坏，无法读取")),
)
_MISSING_SUMMARY = f"the package has no {bidpack.SUMMARY_NAME}"


def _package_failure(error: bidpack.BidPackError) -> Failure:
    if isinstance(error, bidpack.InvalidSummary):
        if str(error) == _MISSING_SUMMARY:
            code, what = "missing_summary", _("投标文件包中缺少开标一览表 bid.json")
        else:
            code, what = "invalid_summary", _("开标一览表 bid.json 不符合格式要求")
    else:
        code, what = "invalid_package", _("投标文件包不符合格式要求")
        for kinds, known_code, text in _PACKAGE_FAILURES:
            if isinstance(error, kinds):
                code, what = known_code, str(text)
                break
    return Failure(FailureSide.BIDDER, code, _("%(what)s：%(reason)s") % {"what": what, "reason": _reason(error)})


def _check_summary_binding(claim: Claim, summary: bidpack.BidSummary) -> None:
    """bid.json must be this bid's: this tender, this lot, this bidder's credit code."""
    wrong = []
    if summary.tender != str(claim.tender_id):
        wrong.append(_("招标项目（%(found)s，应为 %(expected)s）") % {"found": summary.tender, "expected": claim.tender_id})
    if summary.lot != str(claim.lot_id):
        wrong.append(_("标段（%(found)s，应为 %(expected)s）") % {"found": summary.lot, "expected": claim.lot_id})
    if summary.bidder != claim.credit_code:
        wrong.append(_("投标人统一社会信用代码（%(found)s，应为 %(expected)s）")
                     % {"found": summary.bidder, "expected": claim.credit_code})
    if wrong:
        raise Failure(FailureSide.BIDDER, "summary_mismatch",
                      _("开标一览表 bid.json 不属于本投标：%(fields)s 不符。") % {"fields": "；".join(wrong)})


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__


# --- results -------------------------------------------------------------------------------------


def _lock_claimed(claim: Claim) -> tuple[BidOpening, OpeningSession]:
    """The bid (still this worker's) and its session, locked in that order (as a key release does)."""
    bid_opening = BidOpening.objects.select_for_update(of=("self",)).get(pk=claim.pk)
    if bid_opening.status != DecryptionStatus.DECRYPTING or bid_opening.plaintext_name != claim.name:
        raise LostClaim()
    session = (OpeningSession.objects.select_for_update(of=("self",)).select_related("lot")
               .get(pk=bid_opening.session_id))
    bid_opening.session = session
    return bid_opening, session


def _record_opened(claim: Claim, summary: bidpack.BidSummary, plaintext_sha256: str) -> str:
    by = actor()
    with transaction.atomic():
        bid_opening, session = _lock_claimed(claim)
        now = timezone.now()
        bid_opening.status = DecryptionStatus.OPENED
        bid_opening.decrypted_at = now
        bid_opening.read_at = now
        bid_opening.plaintext_sha256 = plaintext_sha256
        bid_opening.price_fen = summary.price_fen
        bid_opening.price_in_words = summary.price_capital
        bid_opening.price_in_words_fen = summary.price_capital_fen
        bid_opening.price_mismatch = summary.price_mismatch
        bid_opening.duration_days = summary.duration_days
        bid_opening.quality = summary.quality
        bid_opening.project_manager = summary.project_manager_name
        bid_opening.project_manager_certificate = summary.project_manager_certificate
        bid_opening.save(update_fields=[
            "status", "decrypted_at", "read_at", "plaintext_sha256", "price_fen", "price_in_words",
            "price_in_words_fen", "price_mismatch", "duration_days", "quality", "project_manager",
            "project_manager_certificate",
        ])
        reading = {
            "bid": claim.bid_id,
            "bidder": claim.bidder_name,
            **bid_opening.price_reading(),
        }
        record_event(by=by, action="opening.price_read", obj=bid_opening.bid, tender_id=claim.tender_id,
                     payload={**reading, "plaintext_sha256": plaintext_sha256, "via": bid_opening.released_via})
        append_event(session, "price_read", reading)
        core.maybe_end_decryption(by=by, session=session)
    return DecryptionStatus.OPENED.value


def _record_failure(claim: Claim, failure: Failure) -> str:
    by = actor()
    try:
        with transaction.atomic():
            bid_opening, session = _lock_claimed(claim)
            bid_opening.status = DecryptionStatus.FAILED
            bid_opening.failure_side = failure.side
            bid_opening.failure_code = failure.code
            bid_opening.failure_detail = failure.detail
            bid_opening.plaintext_name = ""
            bid_opening.plaintext_sha256 = ""
            bid_opening.save(update_fields=["status", "failure_side", "failure_code", "failure_detail",
                                            "plaintext_name", "plaintext_sha256"])
            core._count_failure(by, bid_opening)
            append_event(session, "decryption_failed", {
                "bid": claim.bid_id, "bidder": claim.bidder_name, "code": failure.code,
                "side": str(failure.side), "detail": failure.detail,
            })
            core.maybe_end_decryption(by=by, session=session)
    except LostClaim:
        return BidOpening.objects.values_list("status", flat=True).get(pk=claim.pk)
    return DecryptionStatus.FAILED.value


def _delete_quietly(bids, name: str) -> None:
    try:
        bids.delete(name)
    except Exception:  # noqa: BLE001 - a leftover file is only untidy
        logger.warning("could not delete %s from the bids storage", name, exc_info=True)


# --- recovery ------------------------------------------------------------------------------------


def stalled(now=None) -> list[int]:
    """Bids whose decryption needs a (new) job: released but not picked up for STALE_AFTER (the
    job was lost), or left "decrypting" with no progress for STALE_AFTER (the worker died)."""
    now = now or timezone.now()
    found = []
    unresolved = (DecryptionStatus.RELEASED, DecryptionStatus.DECRYPTING)
    for bid_opening in BidOpening.objects.filter(status__in=unresolved).select_related("session"):
        if bid_opening.status == DecryptionStatus.DECRYPTING:
            last = _last_activity(bid_opening)
        else:
            last = bid_opening.released_at
        if last is None or now - last >= STALE_AFTER:
            found.append(bid_opening.pk)
    return found


def resume_stalled(now=None) -> list[int]:
    """Enqueue a decryption job for every stalled bid (the job's claim makes duplicates harmless).
    Meant for the chronograph's tick."""
    from opening import tasks

    pks = stalled(now)
    for pk in pks:
        tasks.decrypt_bid.enqueue(pk)
    return pks
