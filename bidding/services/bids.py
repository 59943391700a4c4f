"""Sealed bids: the resumable upload, its finalisation into a bid in force, withdrawal and the
release of the data key. The protocol is docs/bid-upload-api.md; the file is
docs/sealed-bid-format.md.

What the platform can check without the data key it checks as early as it can: the header, its
signature under the bidder's registered key and its binding at creation; every byte against the
signed ciphertext hash at finalisation. Nothing here ever reads a whole bid into memory: chunks and
the joined file stream through the "bids" storage.

Deadlines are judged by the server's clock when the bidder finalises (`timezone.now()` at the start
of `bid_upload_finalise`): that moment is the bid's `received_at`.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import uuid
from datetime import datetime, timedelta

from pathlib import Path

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation
from accounts.permissions import require
from audit.actor import Actor
from audit.services import fsm_transition, record_event
from bidding import keyfile, receipts, sealing
from bidding.models import Bid, BidStatus, BidUpload, KeyPurpose, UploadChunk, UploadStatus
from bidding.sealing import header as sealed
from bidding.selectors import key_by_fingerprint
from config.errors import DeadlineError, DomainError, IllegalTransition
from tendering.models import Lot, LotState

_READ = 1 << 20
MAX_HEADER_PREFIX = sealed.PREAMBLE_SIZE + sealed.MAX_HEADER_SIZE + sealed.SIGNATURE_SIZE


class UploadConflict(DomainError):
    """A chunk that contradicts bytes already received, or an upload that no longer takes chunks."""

    code = "chunk_conflict"


class RangeError(DomainError):
    code = "bad_range"


class Busy(DomainError):
    """Retry in a moment: another finalisation of this bidder's bids for the lot is being checked."""

    code = "finalising"


# A finalisation that has not finished after this long was interrupted (the process died): a
# retry takes it over, and the chronograph no longer waits for it before closing the lot.
FINALISING_TIMEOUT = timedelta(minutes=15)
MAX_OPEN_UPLOADS = 3  # per bidder and lot: a fresh start, a resume, one spare


def bid_storage():
    return storages["bids"]


# --- checks shared by creation and finalisation --------------------------------------------------


def _check_lot_takes_bids(lot: Lot, now: datetime) -> None:
    tender = lot.tender
    if tender.bid_deadline is not None and now >= tender.bid_deadline:
        raise DeadlineError(
            _("投标截止时间（%(deadline)s）已过，平台不再接收投标文件。")
            % {"deadline": timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M:%S")},
            code="deadline_passed",
        )
    if lot.state != LotState.PUBLISHED:
        raise DomainError(
            _("该标段当前状态为“%(state)s”，不接收投标文件。") % {"state": lot.get_state_display()}, code="lot_not_open"
        )


def _parse_prefix(prefix: bytes) -> tuple[sealed.SealedHeader, bytes]:
    """The header and signature of a sealed file's first bytes, exactly (nothing after them)."""
    stream = io.BytesIO(prefix)
    try:
        header, signature = sealing.read_header(stream)
    except sealed.NotSealed as error:
        raise DomainError(_("这不是密封投标文件（格式 v1）：%(reason)s") % {"reason": error}, code="not_sealed") from error
    except sealed.SealedBidError as error:
        raise DomainError(_("密封头无效：%(reason)s") % {"reason": error}, code="bad_header") from error
    if stream.read(1):
        raise DomainError(_("提交的文件头之后还有多余的字节：文件头应止于签名。"), code="bad_header")
    return header, signature


def _binding_for(lot: Lot, bidder: Organisation) -> sealed.Binding:
    return sealed.Binding(tender=str(lot.tender_id), lot=str(lot.pk), bidder=str(bidder.pk))


def _checked_keys(header: sealed.SealedHeader, signature: bytes, bidder: Organisation):
    """The bidder's registered keys the header names, after checking they are in force and the
    signature verifies under the signing key."""
    recipient = header.recipients[0]
    decryption_key = key_by_fingerprint(recipient.key_fingerprint)
    signing_key = key_by_fingerprint(header.signer_key_fingerprint)
    for key, purpose, label in (
        (decryption_key, KeyPurpose.DECRYPTION, _("数据密钥所封装到的解密公钥")),
        (signing_key, KeyPurpose.SIGNING, _("签署密封头的签名公钥")),
    ):
        if key is None or key.organisation_id != bidder.pk or key.purpose != purpose:
            raise DomainError(
                _("%(key)s不是本单位在平台登记的公钥。请用本单位登记的密钥文件重新密封。") % {"key": label}, code="key_not_usable"
            )
        if not key.is_active:
            raise DomainError(
                _("%(key)s已于 %(when)s 撤销，不能再用于投标。请用现行密钥文件重新密封。")
                % {"key": label, "when": timezone.localtime(key.revoked_at).strftime("%Y-%m-%d %H:%M")},
                code="key_not_usable",
            )
    try:
        sealing.check_signature(header, signature, keyfile.public_key_from_jwk(signing_key.public_jwk))
    except sealed.BadSignature as error:
        raise DomainError(_("密封头的签名无法用登记的签名公钥验证：文件可能被改动，或不是用本单位的密钥签署的。"), code="bad_signature") from error
    return decryption_key, signing_key


def _check_header(header: sealed.SealedHeader, signature: bytes, *, lot: Lot, bidder: Organisation, size: int):
    expected = _binding_for(lot, bidder)
    if header.binding != expected:
        raise DomainError(
            _("该文件密封时绑定的是 %(sealed)s，与本次投标（%(expected)s）不符。请按本标段的编号重新密封。")
            % {"sealed": header.binding.describe(), "expected": expected.describe()},
            code="binding_mismatch",
        )
    if size != header.file_size:
        raise DomainError(
            _("声明的文件大小 %(declared)s 字节与密封头所示的 %(expected)s 字节不符。") % {"declared": size, "expected": header.file_size},
            code="size_mismatch",
        )
    return _checked_keys(header, signature, bidder)


def _check_size_limit(size: int) -> None:
    limit = settings.PLATFORM_MAX_BID_BYTES
    if size > limit:
        raise DomainError(
            _("投标文件大小 %(size)s 字节超过平台上限 %(limit)s 字节。") % {"size": size, "limit": limit}, code="too_large"
        )


def _refuse_replay(ciphertext_sha256: str) -> None:
    # By the ciphertext, not the header bytes: an ECDSA signature can be rewritten (s → n − s) into
    # another valid one, so an old version with a fresh-looking header must still count as a replay.
    if Bid.objects.filter(ciphertext_sha256=ciphertext_sha256).exists():
        raise DomainError(
            _("这个密封文件已经递交过。如需递交新版本，请重新密封后再上传。"), code="replay"
        )


def _check_capacity(lot: Lot, bidder: Organisation, size: int) -> None:
    """A bidder cannot tie up the platform's storage: a few open uploads per lot, a bounded number
    of versions, and never an upload the disk cannot hold with room to spare."""
    open_uploads = BidUpload.objects.filter(lot=lot, bidder=bidder, status=UploadStatus.OPEN).count()
    if open_uploads >= MAX_OPEN_UPLOADS:
        raise DomainError(
            _("本标段已有 %(count)s 个未完成的上传。请先续传完成或放弃其中之一。") % {"count": open_uploads}, code="too_many_uploads"
        )
    versions = Bid.objects.filter(lot=lot, bidder=bidder).count()
    if versions >= settings.PLATFORM_MAX_BID_VERSIONS:
        raise DomainError(
            _("本标段已递交 %(count)s 个版本，达到上限。") % {"count": versions}, code="too_many_versions"
        )
    storage = bid_storage()
    if hasattr(storage, "location"):
        Path(storage.location).mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(storage.location).free
        if free < size + settings.PLATFORM_MIN_FREE_BYTES:
            raise DomainError(_("平台存储空间暂时不足，请稍后再试，并联系交易中心。"), code="storage_full")


# --- the upload --------------------------------------------------------------------------------


@transaction.atomic
def bid_upload_create(*, by: Actor, lot: Lot, size: int, header_prefix: bytes, user_agent: str = "") -> tuple[BidUpload, bool]:
    """Open an upload for a sealed file of `size` bytes whose first bytes are `header_prefix`.

    Returns (upload, created). Asking again for a file whose upload is still open returns that
    upload (created=False): a client that lost the answer simply continues it."""
    require(by.user, "bidding.submit_bid", lot)
    bidder = by.user.organisation
    now = timezone.now()
    # The lot's row lock serialises the capacity checks below between concurrent requests.
    lot = Lot.objects.select_for_update().select_related("tender").get(pk=lot.pk)
    if not lot.tender.registrations.filter(organisation=bidder).exists():
        raise DomainError(_("贵单位尚未获取本项目的招标文件，不能投标。请先在招标公告页面获取招标文件。"), code="not_registered")
    _check_lot_takes_bids(lot, now)
    if not isinstance(size, int) or size <= 0:
        raise DomainError(_("请声明密封文件的大小（正整数，字节）。"), code="size_mismatch")
    _check_size_limit(size)
    if len(header_prefix) > MAX_HEADER_PREFIX:
        raise DomainError(_("文件头过长。"), code="bad_header")
    header, signature = _parse_prefix(header_prefix)
    decryption_key, signing_key = _check_header(header, signature, lot=lot, bidder=bidder, size=size)
    header_sha256 = hashlib.sha256(header_prefix).hexdigest()
    _refuse_replay(header.ciphertext_sha256)
    existing = BidUpload.objects.filter(
        lot=lot, bidder=bidder, header_sha256=header_sha256, status__in=(UploadStatus.OPEN, UploadStatus.FINALISING)
    ).first()
    if existing is not None:
        return existing, False
    _check_capacity(lot, bidder, size)
    upload = BidUpload.objects.create(
        lot=lot,
        bidder=bidder,
        created_by=by.user,
        size=size,
        chunk_size=settings.PLATFORM_BID_CHUNK_BYTES,
        header_prefix=bytes(header_prefix),
        header_sha256=header_sha256,
        header=header.as_dict(),
        signing_key=signing_key,
        decryption_key=decryption_key,
        created_at=now,
        ip=by.ip or "",
        user_agent=(user_agent or "")[:500],
    )
    record_event(
        by=by,
        action="bid.upload_started",
        obj=upload,
        tender_id=lot.tender_id,
        payload={
            "lot": lot.pk,
            "bidder": bidder.pk,
            "size": size,
            "header_sha256": header_sha256,
            "ciphertext_sha256": header.ciphertext_sha256,
            "tool": {"name": header.tool.name, "version": header.tool.version, "fingerprint": header.tool.fingerprint},
            "user_agent": upload.user_agent,
        },
    )
    return upload, True


class _LimitedReader:
    """Reads exactly `length` bytes from `stream` (or fewer, if it ends), hashing them; never more:
    bytes beyond a declared range are not read, let alone stored."""

    def __init__(self, stream, length: int):
        self.stream, self.remaining, self.count = stream, length, 0
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        n = self.remaining if n is None or n < 0 else min(n, self.remaining)
        data = self.stream.read(min(n, _READ))
        self.remaining -= len(data)
        self.count += len(data)
        self.digest.update(data)
        return data


def parse_content_range(value: str | None, *, size: int) -> tuple[int, int]:
    """`bytes first-last/total` → half-open (start, end). Raises RangeError or DomainError(out_of_range)."""
    if not value or not value.startswith("bytes "):
        raise RangeError(_("请求缺少 Content-Range 头（格式：bytes 起始-结束/总大小）。"))
    try:
        span, total = value[len("bytes ") :].split("/", 1)
        first, last = (int(part) for part in span.split("-", 1))
        total = int(total)
    except ValueError:
        raise RangeError(_("Content-Range 头格式错误（应为：bytes 起始-结束/总大小）。")) from None
    if first < 0 or last < first:
        raise RangeError(_("Content-Range 头格式错误（应为：bytes 起始-结束/总大小）。"))
    if total != size or last >= size:
        raise DomainError(
            _("分块 %(first)s-%(last)s/%(total)s 超出了声明的文件大小 %(size)s 字节。") % {"first": first, "last": last, "total": total, "size": size},
            code="out_of_range",
        )
    return first, last + 1


def _drain(reader) -> None:
    while reader.read(_READ):
        pass


def _closed_message(upload: BidUpload) -> str:
    return _("该上传已%(status)s，不再接收数据。") % {"status": upload.get_status_display()}


def bid_upload_put_chunk(*, by: Actor, upload: BidUpload, content_range: str | None, body, declared_length: int | None) -> BidUpload:
    """Store the bytes `content_range` names ("bytes first-last/size"), read from the file-like `body`. Idempotent: the same
    bytes at the same place again change nothing. Not one transaction with the file write: the
    chunk row is written only after its bytes are stored, so a failure leaves no row pointing at
    nothing (an orphaned file is deleted here, or by the abandon/refuse cleanup)."""
    require(by.user, "bidding.manage_bid", upload)
    if not upload.is_open:
        raise UploadConflict(_closed_message(upload), code="upload_closed")
    start, end = parse_content_range(content_range, size=upload.size)
    length = end - start
    # Chunks are cut at multiples of the upload's chunk size, so an upload has at most
    # ceil(size / chunk_size) chunks and two chunks never overlap.
    if start % upload.chunk_size or length != min(upload.chunk_size, upload.size - start):
        raise RangeError(
            _("分块必须从 chunk_size（%(chunk)s 字节）的整数倍处开始，长度为 chunk_size（最后一块为余下的全部字节）。")
            % {"chunk": upload.chunk_size}
        )
    if declared_length is not None and declared_length != length:
        raise RangeError(
            _("请求体长度 %(body)s 字节与 Content-Range 所示的 %(range)s 字节不符。") % {"body": declared_length, "range": length}
        )
    existing = upload.chunks.filter(start=start).first()
    reader = _LimitedReader(body, length)
    if existing is not None:
        _drain(reader)
        _check_complete_body(reader, length)
        if reader.digest.hexdigest() != existing.sha256:
            raise UploadConflict(_("重复发送的分块 %(start)s-%(end)s 与先前收到的内容不同。") % {"start": start, "end": end - 1})
        return upload
    storage = bid_storage()
    name = storage.get_available_name(f"uploads/{upload.pk}/{start:016d}-{uuid.uuid4().hex[:8]}")
    try:
        name = storage.save(name, File(reader))
    except BaseException:
        _delete_quietly(storage, name)
        raise
    try:
        _check_complete_body(reader, length)
        with transaction.atomic():
            locked = BidUpload.objects.select_for_update().get(pk=upload.pk)
            if not locked.is_open:
                raise UploadConflict(_closed_message(locked), code="upload_closed")
            now = timezone.now()
            UploadChunk.objects.create(upload=locked, start=start, end=end, sha256=reader.digest.hexdigest(), storage_name=name, received_at=now)
            locked.last_chunk_at = now
            locked.save(update_fields=["last_chunk_at"])
    except IntegrityError:
        # The same chunk arrived twice at once; the other request stored it.
        storage.delete(name)
        existing = upload.chunks.get(start=start)
        if existing.end != end or existing.sha256 != reader.digest.hexdigest():
            raise UploadConflict(_("重复发送的分块 %(start)s-%(end)s 与先前收到的内容不同。") % {"start": start, "end": end - 1}) from None
    except BaseException:
        storage.delete(name)
        raise
    return BidUpload.objects.get(pk=upload.pk)


def _delete_quietly(storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:
        pass


def _check_complete_body(reader: _LimitedReader, length: int) -> None:
    if reader.count != length:
        raise RangeError(
            _("请求体只有 %(got)s 字节，少于 Content-Range 所示的 %(expected)s 字节（连接可能中断）。") % {"got": reader.count, "expected": length}
        )


def missing_ranges(upload: BidUpload) -> list[list[int]]:
    """The half-open byte ranges not received yet, in order."""
    gaps, position = [], 0
    for start, end in upload.chunks.order_by("start").values_list("start", "end"):
        if start > position:
            gaps.append([position, start])
        position = max(position, end)
    if position < upload.size:
        gaps.append([position, upload.size])
    return gaps


class _JoinedChunks:
    """The upload's chunks, read in order as one stream, checked on the way through: the first bytes
    must be the header declared at creation, the rest are hashed as the ciphertext."""

    def __init__(self, upload: BidUpload):
        self.storage = bid_storage()
        self.names = list(upload.chunks.order_by("start").values_list("storage_name", flat=True))
        self.prefix = bytes(upload.header_prefix)
        self.position = 0
        self.prefix_matches = True
        self.whole = hashlib.sha256()
        self.ciphertext = hashlib.sha256()
        self._current = None

    def read(self, n: int = -1) -> bytes:
        while True:
            if self._current is None:
                if not self.names:
                    return b""
                self._current = self.storage.open(self.names.pop(0), "rb")
            data = self._current.read(_READ if n is None or n < 0 else min(n, _READ))
            if data:
                self._account(data)
                return data
            self._current.close()
            self._current = None

    def _account(self, data: bytes) -> None:
        self.whole.update(data)
        header_end = len(self.prefix)
        if self.position < header_end:
            head = data[: header_end - self.position]
            if head != self.prefix[self.position : self.position + len(head)]:
                self.prefix_matches = False
            self.ciphertext.update(data[len(head) :])
        else:
            self.ciphertext.update(data)
        self.position += len(data)

    def close(self) -> None:
        if self._current is not None:
            self._current.close()


def _delete_chunks(upload: BidUpload) -> None:
    storage = bid_storage()
    for name in upload.chunks.values_list("storage_name", flat=True):
        storage.delete(name)
    upload.chunks.all().delete()


def _refuse(by: Actor, upload: BidUpload, error: DomainError, now: datetime) -> None:
    """Record why the upload was refused and drop its bytes; nothing of it becomes a bid."""
    with transaction.atomic():
        locked = BidUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.status not in (UploadStatus.OPEN, UploadStatus.FINALISING):
            return
        locked.status = UploadStatus.REFUSED
        locked.finished_at = now
        locked.refusal_code = error.code
        locked.refusal_detail = str(error.message)
        locked.save(update_fields=["status", "finished_at", "refusal_code", "refusal_detail"])
        record_event(
            by=by,
            action="bid.upload_refused",
            obj=locked,
            tender_id=locked.lot.tender_id,
            payload={"lot": locked.lot_id, "bidder": locked.bidder_id, "code": error.code, "reason": str(error.message)},
        )
    _delete_chunks(upload)


def _busy(message) -> Busy:
    return Busy(message)


def _claim(by: Actor, upload: BidUpload, now: datetime) -> tuple[BidUpload, Bid | None]:
    """Fix the submission time and mark the upload as being checked, or say why not.

    Under the lot's row lock, the same lock the chronograph takes to close the lot: a finalisation
    requested before the deadline is judged by that moment even if the check of a large file ends
    after it (the chronograph waits for uploads being checked). One finalisation per bidder and lot
    at a time, so versions are accepted in the order they were submitted."""
    with transaction.atomic():
        lot = Lot.objects.select_for_update().select_related("tender").get(pk=upload.lot_id)
        locked = BidUpload.objects.select_for_update().select_related("lot__tender", "bidder").get(pk=upload.pk)
        if locked.status == UploadStatus.ACCEPTED:
            return locked, locked.bid
        if locked.status == UploadStatus.FINALISING:
            if now - locked.submitted_at < FINALISING_TIMEOUT:
                raise _busy(_("平台正在核验这个文件，请稍候再查询结果。"))
            return locked, None  # an interrupted check: take it over, keeping its submission time
        if locked.status != UploadStatus.OPEN:
            raise UploadConflict(_closed_message(locked), code="upload_closed")
        try:
            _check_lot_takes_bids(lot, now)
        except DomainError as error:
            refusal = error
        else:
            refusal = None
        if refusal is None:
            gaps = missing_ranges(locked)
            if gaps:
                missing = sum(end - start for start, end in gaps)
                raise DomainError(_("还有 %(missing)s 字节未收到，请先补传缺失的分块。") % {"missing": missing}, code="incomplete")
            if BidUpload.objects.filter(
                lot=lot, bidder=locked.bidder, status=UploadStatus.FINALISING, submitted_at__gt=now - FINALISING_TIMEOUT
            ).exclude(pk=locked.pk).exists():
                raise _busy(_("本单位的另一版本正在核验，请稍候再完成这次上传。"))
            locked.status = UploadStatus.FINALISING
            locked.submitted_at = now
            locked.save(update_fields=["status", "submitted_at"])
            return locked, None
    _refuse(by, locked, refusal, now)
    raise refusal


def bid_upload_finalise(*, by: Actor, upload: BidUpload) -> tuple[Bid, bool]:
    """Check the complete file and accept it as the bidder's bid in force for the lot.

    Returns (bid, created). Asking again for an upload already accepted returns its bid with
    created=False, so a client that lost the answer can ask again; while it is being checked the
    answer is `finalising` (retry). Any refusal marks the upload refused (except `incomplete`,
    which leaves it open for the missing bytes) and raises."""
    require(by.user, "bidding.manage_bid", upload)
    upload, accepted = _claim(by, upload, timezone.now())
    if accepted is not None:
        return accepted, False
    submitted = upload.submitted_at  # the submission time the deadline is judged by
    try:
        header, signature = _parse_prefix(bytes(upload.header_prefix))
        _check_header(header, signature, lot=upload.lot, bidder=upload.bidder, size=upload.size)
        storage_name, digests = _join(upload)
    except DomainError as error:
        _refuse(by, upload, error, submitted)
        raise
    try:
        bid = _accept(by, upload, header, storage_name, digests)
    except DomainError as error:
        _delete_quietly(bid_storage(), storage_name)
        _refuse(by, upload, error, submitted)
        raise
    except BaseException:
        _delete_quietly(bid_storage(), storage_name)
        raise
    _delete_chunks(upload)
    return bid, True


def _join(upload: BidUpload) -> tuple[str, dict]:
    """Write the chunks as one file in the bids storage, checking it in the same pass."""
    joined = _JoinedChunks(upload)
    storage = bid_storage()
    name = storage.get_available_name(f"sealed/{upload.lot.tender_id}/{upload.lot_id}/{upload.bidder_id}/{upload.pk}.etbid")
    try:
        name = storage.save(name, File(joined))
    except BaseException:
        _delete_quietly(storage, name)  # FileSystemStorage leaves what it wrote so far
        raise
    finally:
        joined.close()
    header = upload.header
    problem = None
    if joined.position != upload.size:
        problem = DomainError(
            _("收到的文件为 %(got)s 字节，与声明的 %(size)s 字节不符。") % {"got": joined.position, "size": upload.size}, code="size_mismatch"
        )
    elif not joined.prefix_matches:
        problem = DomainError(_("文件开头与创建上传时提交的密封头不一致：文件被改动过。"), code="tampered")
    elif joined.ciphertext.hexdigest() != header["ciphertext_sha256"]:
        problem = DomainError(
            _("密文的 SHA-256 与已签名密封头中的值不符：文件在密封后被改动或损坏。"), code="tampered"
        )
    if problem is not None:
        storage.delete(name)
        raise problem
    return name, {"sha256": joined.whole.hexdigest(), "ciphertext_sha256": joined.ciphertext.hexdigest()}


@transaction.atomic
def _accept(by: Actor, upload: BidUpload, header: sealed.SealedHeader, storage_name: str, digests: dict) -> Bid:
    lot = Lot.objects.select_for_update().select_related("tender").get(pk=upload.lot_id)
    locked = BidUpload.objects.select_for_update().get(pk=upload.pk)
    if locked.status != UploadStatus.FINALISING:
        raise UploadConflict(_closed_message(locked), code="upload_closed")
    now = locked.submitted_at
    # Judged at the submission time; meanwhile the lot may only have closed (or been suspended)
    # because that deadline passed, which does not make a bid submitted before it late.
    state = lot.suspended_from if lot.state == LotState.SUSPENDED else lot.state
    if state not in (LotState.PUBLISHED, LotState.CLOSED):
        _check_lot_takes_bids(lot, now)
    if lot.tender.bid_deadline is not None and now >= lot.tender.bid_deadline:
        _check_lot_takes_bids(lot, now)
    _refuse_replay(digests["ciphertext_sha256"])
    # Keys may have been revoked while the bytes were on their way.
    decryption_key, signing_key = _checked_keys(*_parse_prefix(bytes(locked.header_prefix)), locked.bidder)
    previous = Bid.objects.select_for_update().filter(lot=lot, bidder=locked.bidder, status=BidStatus.RECEIVED).first()
    last_version = Bid.objects.filter(lot=lot, bidder=locked.bidder).order_by("-version").values_list("version", flat=True).first() or 0
    tool = header.tool
    bid = Bid(
        lot=lot,
        bidder=locked.bidder,
        received_at=now,
        version=last_version + 1,
        submitted_by=by.user,
        storage_name=storage_name,
        size=locked.size,
        sha256=digests["sha256"],
        ciphertext_sha256=digests["ciphertext_sha256"],
        header=locked.header,
        signing_key=signing_key,
        decryption_key=decryption_key,
        upload_started_at=locked.created_at,
        ip=by.ip or "",
        user_agent=locked.user_agent,
        tool_name=tool.name,
        tool_version=tool.version,
        tool_fingerprint=tool.fingerprint,
    )
    if previous is not None:
        # The unique constraint allows one bid in force: the old one steps aside first.
        fsm_transition(previous, "replace", by=by, tender_id=lot.tender_id, state_field="status", by_bid=None, payload={"lot": lot.pk})
    bid.save()
    if previous is not None:
        previous.replaced_by = bid
        previous.save(update_fields=["replaced_by"])
    locked.status = UploadStatus.ACCEPTED
    locked.finished_at = timezone.now()
    locked.bid = bid
    locked.save(update_fields=["status", "finished_at", "bid"])
    event = record_event(
        by=by,
        action="bid.received",
        obj=bid,
        tender_id=lot.tender_id,
        payload={
            "lot": lot.pk,
            "bidder": bid.bidder_id,
            "version": bid.version,
            "upload": str(locked.pk),
            "size": bid.size,
            "sha256": bid.sha256,
            "ciphertext_sha256": bid.ciphertext_sha256,
            "replaces": previous.pk if previous is not None else None,
            "upload_started_at": locked.created_at.isoformat(),
            "user_agent": bid.user_agent,
            "tool": {"name": bid.tool_name, "version": bid.tool_version, "fingerprint": bid.tool_fingerprint},
        },
    )
    bid.receipt = receipts.sign_receipt(bid, audit_event=event)
    bid.save(update_fields=["receipt"])
    return bid


def bid_upload_abandon(*, by: Actor, upload: BidUpload) -> BidUpload:
    require(by.user, "bidding.manage_bid", upload)
    with transaction.atomic():
        locked = BidUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.status != UploadStatus.OPEN:
            raise UploadConflict(_closed_message(locked), code="upload_closed")
        locked.status = UploadStatus.ABANDONED
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "finished_at"])
        record_event(by=by, action="bid.upload_abandoned", obj=locked, tender_id=locked.lot.tender_id, payload={"lot": locked.lot_id})
    _delete_chunks(locked)
    return locked


def bid_upload_expire(*, by: Actor, upload: BidUpload) -> BidUpload:
    """The chronograph drops uploads left unfinished at the deadline: they can no longer become
    bids, and their chunks would only take disk space. Recorded; refused before the deadline."""
    if not (by.user is None and by.role == "system"):
        require(by.user, "bidding.manage_bid", upload)
    with transaction.atomic():
        locked = BidUpload.objects.select_for_update().select_related("lot__tender").get(pk=upload.pk)
        if locked.status != UploadStatus.OPEN:
            raise UploadConflict(_closed_message(locked), code="upload_closed")
        deadline = locked.lot.tender.bid_deadline
        now = timezone.now()
        if deadline is None or now < deadline:
            raise DomainError(_("投标截止时间未到，未完成的上传仍可继续。"), code="not_due")
        locked.status = UploadStatus.ABANDONED
        locked.finished_at = now
        locked.refusal_code = "deadline_passed"
        locked.refusal_detail = _("截止时间已到，上传未完成。")
        locked.save(update_fields=["status", "finished_at", "refusal_code", "refusal_detail"])
        record_event(
            by=by, action="bid.upload_expired", obj=locked, tender_id=locked.lot.tender_id,
            payload={"lot": locked.lot_id, "bidder": locked.bidder_id, "received_bytes": sum(c.end - c.start for c in locked.chunks.all())},
        )
    _delete_chunks(locked)
    return locked


@transaction.atomic
def bid_withdraw(*, by: Actor, bid: Bid, reason: str = "") -> Bid:
    """撤回: before the deadline the bidder may take its bid back (L29). A later upload may still
    submit a new one before the deadline."""
    require(by.user, "bidding.manage_bid", bid)
    now = timezone.now()
    bid = Bid.objects.select_for_update().select_related("lot__tender").get(pk=bid.pk)
    if bid.status != BidStatus.RECEIVED:
        raise IllegalTransition(
            _("只能撤回现行有效的投标文件；这一版本的状态是“%(status)s”。") % {"status": bid.get_status_display()}, code="not_in_force"
        )
    _check_lot_takes_bids(bid.lot, now)
    reason = (reason or "").strip()[: Bid._meta.get_field("withdraw_reason").max_length]
    return fsm_transition(
        bid, "withdraw", by=by, tender_id=bid.lot.tender_id, state_field="status", by_user=by.user, at=now, reason=reason,
        payload={"lot": bid.lot_id, "version": bid.version, "reason": reason},
    )


def bid_release_key(*, by: Actor, bid: Bid, data_key: bytes) -> Bid:
    """Release the bid's data key at the opening (the bid tool's `release-key`): accepted only
    while the lot's opening is decrypting and its window is open (opening/services/core.py)."""
    from opening.models import BidOpening
    from opening.services import opening_release_key

    require(by.user, "bidding.manage_bid", bid)
    bid_opening = BidOpening.objects.filter(bid=bid).first()
    if bid_opening is None:
        raise DomainError(_("开标尚未开始：开标开始后才能在开标室释放数据密钥。"), code="opening_not_started")
    opening_release_key(by=by, bid_opening=bid_opening, data_key=data_key)
    bid.refresh_from_db()
    return bid
