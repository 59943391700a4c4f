"""The online opening (开标) of a lot: its session and room, check-ins, the remote decryption of
each bid, the price reading (唱标), objections raised at the opening, and the opening record with
the bidders' confirmations. Room events and command receipts make the live room resumable and
idempotent (see opening/rooms.py)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition


class SessionState(models.TextChoices):
    CHECKIN = "checkin", _("签到中")
    DECRYPTING = "decrypting", _("解密中")
    DECRYPTED = "decrypted", _("解密结束")
    RECORD = "record", _("开标记录确认中")
    FINISHED = "finished", _("开标结束")
    ABORTED = "aborted", _("开标未进行")


DEFAULT_WINDOW_MINUTES = 60


class OpeningSession(models.Model):
    """One lot's opening. Opened by the platform at the bid deadline (L34, E29) when at least 3 bids
    are in force; run by the host (the agency or tenderer, or centre staff)."""

    lot = models.OneToOneField("tendering.Lot", verbose_name=_("标段"), on_delete=models.PROTECT, related_name="opening")
    state = FSMField(_("状态"), max_length=16, choices=SessionState.choices, default=SessionState.CHECKIN)
    opened_at = models.DateTimeField(_("开标时间"))
    window_minutes = models.PositiveIntegerField(_("解密时限（分钟）"), default=DEFAULT_WINDOW_MINUTES)
    host = models.ForeignKey("accounts.User", verbose_name=_("主持人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decryption_started_at = models.DateTimeField(_("开始解密时间"), null=True, blank=True)
    window_ends_at = models.DateTimeField(_("解密截止时间"), null=True, blank=True)
    decryption_closed_at = models.DateTimeField(_("解密结束时间"), null=True, blank=True)
    objections_open = models.BooleanField(_("异议期开放"), default=False)
    objections_opened_at = models.DateTimeField(_("异议期开始"), null=True, blank=True)
    objections_closed_at = models.DateTimeField(_("异议期结束"), null=True, blank=True)
    aborted_reason = models.TextField(_("未进行原因"), blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # The room's last event number; events are numbered 1, 2, … per room (opening/rooms.py).
    last_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("开标")
        verbose_name_plural = _("开标")

    def __str__(self):
        return f"{self.lot} ({self.get_state_display()})"

    def get_state_label(self, value):
        return SessionState(value).label

    @property
    def room(self) -> str:
        return f"opening-{self.lot_id}"

    @transition(field=state, source=SessionState.CHECKIN, target=SessionState.DECRYPTING)
    def start_decryption(self):
        pass

    @transition(field=state, source=SessionState.CHECKIN, target=SessionState.ABORTED)
    def abort(self):
        pass

    @transition(field=state, source=SessionState.DECRYPTING, target=SessionState.DECRYPTED)
    def close_decryption(self):
        pass

    @transition(field=state, source=SessionState.DECRYPTED, target=SessionState.RECORD)
    def draft_record(self):
        pass

    @transition(field=state, source=[SessionState.DECRYPTED, SessionState.RECORD], target=SessionState.FINISHED)
    def finish(self):
        pass


class CheckIn(models.Model):
    """签到: a bidder with a bid in force says it is present. Absent bidders are recorded as such."""

    session = models.ForeignKey(OpeningSession, on_delete=models.CASCADE, related_name="checkins")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    checked_in_at = models.DateTimeField(_("签到时间"))
    ip = models.CharField(max_length=45, blank=True)

    class Meta:
        ordering = ["checked_in_at"]
        constraints = [models.UniqueConstraint(fields=["session", "organisation"], name="one_checkin_per_bidder")]


class DecryptionStatus(models.TextChoices):
    AWAITING = "awaiting", _("待解密")
    RELEASED = "released", _("已释放密钥")
    DECRYPTING = "decrypting", _("解密中")
    OPENED = "opened", _("已解密")
    FAILED = "failed", _("解密失败")


class FailureSide(models.TextChoices):
    """E31: a failure the bidder caused makes the bid count as revoked (撤销); any other as withdrawn (撤回)."""

    BIDDER = "bidder", _("投标人原因（视为撤销投标文件）")
    OTHER = "other", _("非投标人原因（视为撤回投标文件）")


class BidOpening(models.Model):
    """One bid in force at the deadline, as it goes through the opening."""

    session = models.ForeignKey(OpeningSession, on_delete=models.CASCADE, related_name="bids")
    bid = models.OneToOneField("bidding.Bid", on_delete=models.PROTECT, related_name="opening")
    status = models.CharField(_("解密状态"), max_length=16, choices=DecryptionStatus.choices, default=DecryptionStatus.AWAITING)
    # The bid's data key, released by the bidder at the opening (never before: services refuse it).
    data_key = models.BinaryField(null=True, blank=True, editable=False)
    released_at = models.DateTimeField(_("释放密钥时间"), null=True, blank=True)
    released_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    released_via = models.CharField(_("解密途径"), max_length=16, blank=True)  # "bidder" or "custodial"
    progress_bytes = models.BigIntegerField(default=0)
    decrypted_at = models.DateTimeField(_("解密完成时间"), null=True, blank=True)
    plaintext_name = models.CharField(max_length=300, blank=True)
    plaintext_sha256 = models.CharField(max_length=64, blank=True)
    failure_side = models.CharField(_("失败原因归属"), max_length=16, choices=FailureSide.choices, blank=True)
    failure_code = models.CharField(_("失败代码"), max_length=40, blank=True)
    failure_detail = models.TextField(_("失败原因"), blank=True)
    # The opening summary read from bid.json (唱标).
    price_fen = models.BigIntegerField(_("投标报价（分）"), null=True, blank=True)
    price_in_words = models.CharField(_("投标报价（大写）"), max_length=200, blank=True)
    price_in_words_fen = models.BigIntegerField(_("大写金额（分）"), null=True, blank=True)
    price_mismatch = models.BooleanField(_("大小写不一致"), default=False)
    duration_days = models.PositiveIntegerField(_("工期（日历天）"), null=True, blank=True)
    quality = models.CharField(_("质量标准"), max_length=200, blank=True)
    project_manager = models.CharField(_("项目经理"), max_length=100, blank=True)
    project_manager_certificate = models.CharField(_("项目经理证书编号"), max_length=100, blank=True)
    read_at = models.DateTimeField(_("唱标时间"), null=True, blank=True)

    class Meta:
        ordering = ["session", "bid__received_at"]

    @property
    def valid(self) -> bool:
        return self.status == DecryptionStatus.OPENED

    @property
    def price_prevailing_fen(self):
        """P19: the amount in words prevails over the figures."""
        return self.price_in_words_fen if self.price_in_words_fen is not None else self.price_fen

    def price_reading(self) -> dict:
        """What the price reading (唱标) announces of this bid: the room, the audit trail and the
        snapshot all show the same fields."""
        return {
            "price_fen": self.price_fen,
            "price_in_words": self.price_in_words,
            "price_in_words_fen": self.price_in_words_fen,
            "price_prevailing_fen": self.price_prevailing_fen,
            "price_mismatch": self.price_mismatch,
            "duration_days": self.duration_days,
            "quality": self.quality,
            "project_manager": self.project_manager,
            "project_manager_certificate": self.project_manager_certificate,
        }


class OpeningObjection(models.Model):
    """异议 raised by a bidder during the opening and answered there by the host (E29)."""

    session = models.ForeignKey(OpeningSession, on_delete=models.CASCADE, related_name="objections")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    raised_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("异议内容"))
    raised_at = models.DateTimeField(_("提出时间"))
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    class Meta:
        ordering = ["raised_at"]


class RoomEvent(models.Model):
    """What happened in a live room, numbered per room: a client that reconnects gets every event
    after the last number it saw, once, in order. Written in the transaction of the change it
    reports and broadcast only after commit."""

    room = models.CharField(max_length=64)
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["room", "seq"]
        constraints = [models.UniqueConstraint(fields=["room", "seq"], name="one_event_per_room_seq")]


class CommandReceipt(models.Model):
    """A room command already carried out, by its client-chosen id: a retried command returns the
    first result instead of acting twice."""

    room = models.CharField(max_length=64)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    command_id = models.CharField(max_length=64)
    action = models.CharField(max_length=64)
    result = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user", "command_id"], name="one_receipt_per_command")]


from opening.models_custodial import CustodialArrangement, CustodialFallback, CustodialShare, CustodianKey  # noqa: E402,F401


class OpeningRecord(models.Model):
    """开标记录表: one version of the opening record. The statement (canonical JSON, see
    opening/record_signing.py) holds everything the PDF shows; its SHA-256 is what the bidders
    present sign. Reopening the objection period withdraws an unpublished draft (superseded) and
    the host drafts again; the published version is final."""

    session = models.ForeignKey(OpeningSession, on_delete=models.CASCADE, related_name="records")
    version = models.PositiveIntegerField(_("版本"))
    statement_json = models.TextField(_("记录声明（规范 JSON）"))
    statement_sha256 = models.CharField(_("记录哈希（SHA-256）"), max_length=64)
    audit_seq = models.BigIntegerField(_("审计链序号"))
    audit_hash = models.CharField(_("审计链哈希"), max_length=64)
    pdf_name = models.CharField(max_length=300)
    pdf_sha256 = models.CharField(max_length=64)
    drafted_at = models.DateTimeField(_("生成时间"))
    drafted_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    respond_by = models.DateTimeField(_("确认截止时间"))
    superseded_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    superseded_reason = models.CharField(_("作废原因"), max_length=200, blank=True)
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)
    published_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    published_pdf_name = models.CharField(max_length=300, blank=True)
    published_pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["session", "version"]
        verbose_name = _("开标记录表")
        verbose_name_plural = _("开标记录表")
        constraints = [models.UniqueConstraint(fields=["session", "version"], name="one_opening_record_per_version")]

    def __str__(self):
        return f"{self.session.lot} v{self.version}"

    @property
    def statement(self) -> dict:
        import json

        return json.loads(self.statement_json)

    @property
    def current(self) -> bool:
        return self.superseded_at is None


class RecordResponse(models.TextChoices):
    CONFIRMED = "confirmed", _("已签名确认")
    DISAGREED = "disagreed", _("书面提出不同意见")


class RecordConfirmation(models.Model):
    """A checked-in bidder's answer to one record version: its signature of the record hash with
    its registered signing key, or a written disagreement. One per bidder and version."""

    record = models.ForeignKey(OpeningRecord, on_delete=models.CASCADE, related_name="confirmations")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    response = models.CharField(_("意见"), max_length=16, choices=RecordResponse.choices)
    key = models.ForeignKey("bidding.BidderKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    key_fingerprint = models.CharField(_("签名公钥指纹"), max_length=64, blank=True)
    signature = models.CharField(_("签名（r‖s，十六进制）"), max_length=128, blank=True)
    text = models.TextField(_("不同意见"), blank=True)
    created_at = models.DateTimeField(_("时间"))

    class Meta:
        ordering = ["record", "created_at"]
        constraints = [models.UniqueConstraint(fields=["record", "organisation"], name="one_record_response_per_bidder")]
