"""Bids. Minimal for now: enough for the chronograph to count the bids of a lot at its deadline;
the sealed-bid format, uploads and receipts extend this model."""

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
    lot = models.ForeignKey("tendering.Lot", verbose_name=_("标段"), on_delete=models.PROTECT, related_name="bids")
    bidder = models.ForeignKey("accounts.Organisation", verbose_name=_("投标人"), on_delete=models.PROTECT, related_name="bids")
    status = models.CharField(_("状态"), max_length=16, choices=BidStatus.choices, default=BidStatus.RECEIVED)
    received_at = models.DateTimeField(_("递交时间"))

    class Meta:
        ordering = ["lot", "received_at"]
        verbose_name = _("投标文件")
        verbose_name_plural = _("投标文件")
        constraints = [
            # One bid in force per bidder and lot; replacing one marks the old one REPLACED first.
            models.UniqueConstraint(fields=["lot", "bidder"], condition=models.Q(status="received"), name="one_received_bid_per_bidder_and_lot")
        ]

    def __str__(self):
        return f"{self.lot} / {self.bidder} ({self.get_status_display()})"


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
