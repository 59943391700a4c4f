"""Bids, their resumable uploads, and bidders' registered public keys.

A bid is a sealed file (docs/sealed-bid-format.md) the platform cannot read before the opening. It
arrives as a `BidUpload` in chunks (`UploadChunk`); finalising the upload checks the whole file and
turns it into a `Bid` in force, replacing the bidder's previous version for the lot."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition


class BidStatus(models.TextChoices):
    RECEIVED = "received", _("已递交")
    REPLACED = "replaced", _("已被替换")
    WITHDRAWN = "withdrawn", _("已撤回")
    REVOKED = "revoked", _("已撤销")
    REJECTED = "rejected", _("已否决")


# Statuses of a bid that still counts at the deadline (L28, R44 count these).
VALID_BID_STATUSES = (BidStatus.RECEIVED,)


class Bid(models.Model):
    """One accepted version of a bidder's sealed bid for a lot. At most one per bidder and lot is in
    force (RECEIVED); older versions stay as REPLACED, with their files, as evidence."""

    lot = models.ForeignKey("tendering.Lot", verbose_name=_("标段"), on_delete=models.PROTECT, related_name="bids")
    bidder = models.ForeignKey("accounts.Organisation", verbose_name=_("投标人"), on_delete=models.PROTECT, related_name="bids")
    status = FSMField(_("状态"), max_length=16, choices=BidStatus.choices, default=BidStatus.RECEIVED)
    received_at = models.DateTimeField(_("递交时间"), help_text=_("服务器完成接收的时间，截止时间以此为准"))
    version = models.PositiveIntegerField(_("版本"), default=1)
    submitted_by = models.ForeignKey("accounts.User", verbose_name=_("递交人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The sealed file in the "bids" storage, and what identifies it.
    storage_name = models.CharField(_("存储位置"), max_length=300, blank=True)
    size = models.BigIntegerField(_("文件大小（字节）"), default=0)
    sha256 = models.CharField(_("文件 SHA-256"), max_length=64, blank=True)
    ciphertext_sha256 = models.CharField(_("密文 SHA-256"), max_length=64, blank=True)
    header = models.JSONField(_("密封头"), default=dict, blank=True)
    signing_key = models.ForeignKey("BidderKey", verbose_name=_("签名公钥"), null=True, blank=True, on_delete=models.PROTECT, related_name="signed_bids")
    decryption_key = models.ForeignKey("BidderKey", verbose_name=_("解密公钥"), null=True, blank=True, on_delete=models.PROTECT, related_name="sealed_bids")
    # Evidence for regulators (who, from where, with which tool, when).
    upload_started_at = models.DateTimeField(_("开始上传时间"), null=True, blank=True)
    ip = models.CharField(_("IP 地址"), max_length=45, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=500, blank=True)
    tool_name = models.CharField(_("密封工具"), max_length=200, blank=True)
    tool_version = models.CharField(_("密封工具版本"), max_length=200, blank=True)
    tool_fingerprint = models.CharField(_("密封工具指纹"), max_length=200, blank=True)
    receipt = models.JSONField(_("投标回执"), default=dict, blank=True)
    replaced_by = models.ForeignKey("self", verbose_name=_("被替换为"), null=True, blank=True, on_delete=models.PROTECT, related_name="replaces")
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey("accounts.User", verbose_name=_("撤回人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    withdraw_reason = models.CharField(_("撤回说明"), max_length=500, blank=True)

    class Meta:
        ordering = ["lot", "received_at"]
        verbose_name = _("投标文件")
        verbose_name_plural = _("投标文件")
        constraints = [
            # One bid in force per bidder and lot; replacing one marks the old one REPLACED first.
            models.UniqueConstraint(fields=["lot", "bidder"], condition=models.Q(status="received"), name="one_received_bid_per_bidder_and_lot")
        ]

    def __str__(self):
        return f"{self.lot} / {self.bidder} v{self.version} ({self.get_status_display()})"

    def get_state_label(self, value):
        return BidStatus(value).label

    @property
    def in_force(self) -> bool:
        return self.status == BidStatus.RECEIVED

    @transition(field=status, source=BidStatus.RECEIVED, target=BidStatus.REPLACED)
    def replace(self, *, by_bid):
        self.replaced_by = by_bid

    @transition(field=status, source=BidStatus.RECEIVED, target=BidStatus.WITHDRAWN)
    def withdraw(self, *, by_user, at, reason: str):
        self.withdrawn_by = by_user
        self.withdrawn_at = at
        self.withdraw_reason = reason


class UploadStatus(models.TextChoices):
    OPEN = "open", _("上传中")
    FINALISING = "finalising", _("核验中")
    ACCEPTED = "accepted", _("已接收")
    REFUSED = "refused", _("已拒收")
    ABANDONED = "abandoned", _("已放弃")


class BidUpload(models.Model):
    """A sealed file on its way in. Created with the file's declared size and its header (checked at
    once), filled by chunks in any order, and finalised: accepted as a `Bid` or refused."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    lot = models.ForeignKey("tendering.Lot", verbose_name=_("标段"), on_delete=models.PROTECT, related_name="bid_uploads")
    bidder = models.ForeignKey("accounts.Organisation", verbose_name=_("投标人"), on_delete=models.PROTECT, related_name="bid_uploads")
    created_by = models.ForeignKey("accounts.User", verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=16, choices=UploadStatus.choices, default=UploadStatus.OPEN)
    size = models.BigIntegerField(_("声明大小（字节）"))
    chunk_size = models.PositiveIntegerField(_("分块大小（字节）"), default=8 * 1024 * 1024)
    header_prefix = models.BinaryField(_("文件头字节"), help_text=_("前导、密封头与签名，即第一个分段之前的全部字节"))
    header_sha256 = models.CharField(_("文件头 SHA-256"), max_length=64, db_index=True)
    header = models.JSONField(_("密封头"))
    signing_key = models.ForeignKey("BidderKey", on_delete=models.PROTECT, related_name="+")
    decryption_key = models.ForeignKey("BidderKey", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"))
    last_chunk_at = models.DateTimeField(_("最后分块时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交核验时间"), null=True, blank=True, help_text=_("投标人请求完成上传的服务器时间，截止时间以此为准"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ip = models.CharField(_("IP 地址"), max_length=45, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=500, blank=True)
    refusal_code = models.CharField(_("拒收代码"), max_length=40, blank=True)
    refusal_detail = models.TextField(_("拒收原因"), blank=True)
    bid = models.OneToOneField(Bid, verbose_name=_("投标文件"), null=True, blank=True, on_delete=models.PROTECT, related_name="upload")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("投标文件上传")
        verbose_name_plural = _("投标文件上传")

    def __str__(self):
        return f"{self.lot} / {self.bidder} {self.id} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == UploadStatus.OPEN

    @property
    def chunk_count(self) -> int:
        return max(1, -(-self.size // self.chunk_size))


class UploadChunk(models.Model):
    """Bytes [start, end) of an upload, stored as one object in the "bids" storage."""

    upload = models.ForeignKey(BidUpload, on_delete=models.CASCADE, related_name="chunks")
    start = models.BigIntegerField()
    end = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=300)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["upload", "start"]
        constraints = [models.UniqueConstraint(fields=["upload", "start"], name="one_chunk_per_upload_offset")]


class KeyPurpose(models.TextChoices):
    DECRYPTION = "decryption", _("解密")
    SIGNING = "signing", _("签名")


class KeyStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    REVOKED = "revoked", _("已撤销")


# The revocation reason recorded when a new registration replaces a key.
ROTATED = "rotated"


class BidderKey(models.Model):
    """A bidder's registered PUBLIC key (the private key never reaches the platform).

    Keys are registered in pairs (one decryption, one signing key; `registration` is shared by the
    pair) and revoked in pairs. A new registration while a pair is active is a rotation: the old
    pair is revoked with reason "rotated" and points to its successor (`replaced_by`)."""

    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("投标人"), on_delete=models.PROTECT, related_name="bidder_keys")
    purpose = models.CharField(_("用途"), max_length=16, choices=KeyPurpose.choices)
    public_jwk = models.JSONField(_("公钥（JWK）"))
    fingerprint = models.CharField(_("指纹"), max_length=64, unique=True, help_text=_("公钥 SubjectPublicKeyInfo DER 的 SHA-256（十六进制）"))
    registration = models.UUIDField(_("登记批次"), db_index=True, editable=False)
    status = FSMField(_("状态"), max_length=16, choices=KeyStatus.choices, default=KeyStatus.ACTIVE)
    registered_by = models.ForeignKey("accounts.User", verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(_("登记时间"))
    revoked_by = models.ForeignKey("accounts.User", verbose_name=_("撤销人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoke_reason = models.CharField(_("撤销原因"), max_length=500, blank=True)
    replaced_by = models.ForeignKey("self", verbose_name=_("替换为"), null=True, blank=True, on_delete=models.PROTECT, related_name="replaces")

    class Meta:
        ordering = ["organisation", "-registered_at", "purpose"]
        verbose_name = _("投标人公钥")
        verbose_name_plural = _("投标人公钥")
        constraints = [
            # Whoever seals or verifies a bid must find exactly one key in force per purpose.
            models.UniqueConstraint(
                fields=["organisation", "purpose"], condition=models.Q(status="active"), name="one_active_bidder_key_per_purpose"
            )
        ]

    def __str__(self):
        return f"{self.organisation} / {self.get_purpose_display()} {self.fingerprint[:16]}… ({self.get_status_display()})"

    def get_state_label(self, value):
        return KeyStatus(value).label

    @property
    def is_active(self) -> bool:
        return self.status == KeyStatus.ACTIVE

    @property
    def was_rotated(self) -> bool:
        return self.revoke_reason == ROTATED

    @property
    def fingerprint_blocks(self) -> str:
        """The fingerprint in 4-character blocks, for reading it aloud over the phone."""
        return " ".join(self.fingerprint[i : i + 4] for i in range(0, len(self.fingerprint), 4))

    @transition(field=status, source=KeyStatus.ACTIVE, target=KeyStatus.REVOKED)
    def revoke(self, *, by_user, at, reason: str, replaced_by=None):
        self.revoked_by = by_user
        self.revoked_at = at
        self.revoke_reason = reason
        self.replaced_by = replaced_by
