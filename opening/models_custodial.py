"""The custodial fallback (托管密钥应急解密): a tender's custodial key, split k of n among named
custodians, opens the data key of a bid whose bidder cannot decrypt, at the opening and only
then. docs/custodial-fallback.md has the design; opening/services/custodial.py the rules.

Imported at the end of opening/models.py, so these are models of the opening app."""

from django.db import models
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from django_fsm.signals import post_transition


class CustodianKeyStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    REVOKED = "revoked", _("已撤销")


class CustodianKey(models.Model):
    """A custodian's registered PUBLIC key (P-256 ECDH; the decryption key of a key file made like a
    bidder's). The private key stays in the custodian's key file."""

    user = models.ForeignKey("accounts.User", verbose_name=_("托管人"), on_delete=models.PROTECT, related_name="custodian_keys")
    public_jwk = models.JSONField(_("公钥（JWK）"))
    fingerprint = models.CharField(_("指纹"), max_length=64, unique=True)
    status = models.CharField(_("状态"), max_length=16, choices=CustodianKeyStatus.choices, default=CustodianKeyStatus.ACTIVE)
    registered_at = models.DateTimeField(_("登记时间"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        ordering = ["user", "-registered_at"]
        verbose_name = _("托管人公钥")
        verbose_name_plural = _("托管人公钥")
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=models.Q(status="active"), name="one_active_custodian_key_per_user")
        ]

    def __str__(self):
        return f"{self.user} {self.fingerprint[:16]}… ({self.get_status_display()})"


class CustodialArrangement(models.Model):
    """A tender's custodial key: its public half is published for bidders to seal to; its private
    scalar exists only as n Shamir shares, each wrapped (HPKE) to one custodian's key. The private
    key is never stored."""

    tender = models.OneToOneField("tendering.Tender", verbose_name=_("招标项目"), on_delete=models.PROTECT, related_name="custodial_arrangement")
    threshold = models.PositiveSmallIntegerField(_("恢复所需份数（k）"))
    custodian_count = models.PositiveSmallIntegerField(_("托管人数（n）"))
    public_jwk = models.JSONField(_("托管公钥（JWK）"))
    fingerprint = models.CharField(_("托管公钥指纹"), max_length=64, unique=True)
    created_by = models.ForeignKey("accounts.User", verbose_name=_("设立人"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("设立时间"))
    recoveries = models.PositiveIntegerField(_("恢复次数"), default=0)

    class Meta:
        verbose_name = _("托管密钥安排")
        verbose_name_plural = _("托管密钥安排")

    def __str__(self):
        return f"{self.tender} {self.threshold}/{self.custodian_count}"


class CustodialShare(models.Model):
    """Share `index` of the custodial key, wrapped to one custodian's key. `pending` holds the share
    a custodian released at the opening until k are in; it is erased when the key is recovered."""

    arrangement = models.ForeignKey(CustodialArrangement, on_delete=models.CASCADE, related_name="shares")
    index = models.PositiveSmallIntegerField(_("份额序号"))
    custodian = models.ForeignKey("accounts.User", verbose_name=_("托管人"), on_delete=models.PROTECT, related_name="custodial_shares")
    custodian_key = models.ForeignKey(CustodianKey, verbose_name=_("托管人公钥"), on_delete=models.PROTECT, related_name="shares")
    enc = models.CharField(max_length=130)  # HPKE encapsulated key, hex
    wrapped = models.CharField(max_length=96)  # HPKE ciphertext of the 32-byte share value, hex
    # Salted SHA-256 of the share (see services/custodial.py `share_commitment`): a released share
    # is checked against it before it is used.
    commitment_salt = models.CharField(max_length=64)
    commitment = models.CharField(max_length=64)
    pending = models.BinaryField(null=True, blank=True, editable=False)
    released_at = models.DateTimeField(_("最近释放时间"), null=True, blank=True)
    releases = models.PositiveIntegerField(_("释放次数"), default=0)

    class Meta:
        ordering = ["arrangement", "index"]
        constraints = [
            models.UniqueConstraint(fields=["arrangement", "index"], name="one_custodial_share_per_index"),
            models.UniqueConstraint(fields=["arrangement", "custodian"], name="one_custodial_share_per_custodian"),
        ]


class FallbackStatus(models.TextChoices):
    REQUESTED = "requested", _("待托管人恢复")
    RELEASED = "released", _("已由托管密钥释放")
    FAILED = "failed", _("托管解密失败")
    NOT_NEEDED = "not_needed", _("投标人已自行释放")


class CustodialFallback(models.Model):
    """The host's request to open one bid with the custodial key, because its bidder cannot."""

    bid_opening = models.OneToOneField("opening.BidOpening", on_delete=models.CASCADE, related_name="custodial_fallback")
    status = models.CharField(_("状态"), max_length=16, choices=FallbackStatus.choices, default=FallbackStatus.REQUESTED)
    reason = models.TextField(_("原因"))
    requested_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"))
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    detail = models.TextField(_("处理说明"), blank=True)

    class Meta:
        ordering = ["requested_at"]
        verbose_name = _("托管解密申请")
        verbose_name_plural = _("托管解密申请")


@receiver(post_transition, dispatch_uid="opening.custodial_round_end")
def _decryption_ended(sender, instance, name, source, target, **kwargs):
    """When a lot's decryption phase ends, shares held for its tender are erased (see
    services/custodial.py `custodial_round_end`)."""
    if sender._meta.label == "opening.OpeningSession" and source == "decrypting" and target != "decrypting":
        from opening.services.custodial import custodial_round_end

        custodial_round_end(instance)
