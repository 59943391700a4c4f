"""Partners (other cities' platforms), the cooperation agreements with them, and every message in
and out (crossregion/protocol.py is the wire format; docs/cross-region.md)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from crossregion import protocol


class Partner(models.Model):
    """Another region's platform, registered by centre staff from its well-known metadata after its
    key fingerprint was confirmed out of band. Its key signs everything it sends us."""

    region_code = models.CharField(_("地区代码"), max_length=6, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    base_url = models.CharField(_("平台地址"), max_length=200)
    inbox_path = models.CharField(_("收件地址"), max_length=200, default=protocol.ENDPOINTS["inbox"])
    federated_login_path = models.CharField(_("联合登录地址"), max_length=200, default=protocol.ENDPOINTS["federated_login"])
    public_key = models.CharField(_("公钥（base64url）"), max_length=43)
    key_id = models.CharField(_("密钥标识"), max_length=16)
    added_by = models.ForeignKey("accounts.User", verbose_name=_("添加人"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    added_at = models.DateTimeField(_("添加时间"), default=timezone.now)

    class Meta:
        ordering = ["region_code"]
        verbose_name = _("合作平台")
        verbose_name_plural = _("合作平台")

    def __str__(self):
        return f"{self.name}（{self.region_code}）"

    @property
    def public_raw(self) -> bytes:
        return protocol.b64url_decode(self.public_key)

    @property
    def fingerprint(self) -> str:
        return protocol.fingerprint(self.public_raw)

    @property
    def inbox_url(self) -> str:
        return self.base_url.rstrip("/") + self.inbox_path


class AgreementState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PROPOSED = "proposed", _("待对方签署")
    ACTIVE = "active", _("双方已签署")
    REVOKED = "revoked", _("已撤销")


class Agreement(models.Model):
    """远程异地评标合作框架协议 with one partner. `document` is the signed canonical document
    (protocol.build_agreement); both platforms keep both signatures. In force = ACTIVE, both
    signatures verify, now within [valid_from, valid_until) — see selectors.valid_agreement."""

    uuid = models.UUIDField(_("协议编号"), unique=True)
    partner = models.ForeignKey(Partner, verbose_name=_("合作平台"), on_delete=models.PROTECT, related_name="agreements")
    proposed_by_us = models.BooleanField(_("由本平台起草"))
    state = FSMField(_("状态"), max_length=16, choices=AgreementState.choices, default=AgreementState.DRAFT)
    document = models.JSONField(_("协议文本（规范JSON）"))
    scope = models.JSONField(_("范围"), default=list)
    valid_from = models.DateTimeField(_("生效时间"))
    valid_until = models.DateTimeField(_("失效时间"))
    own_signature = models.CharField(_("本平台签名"), max_length=86, blank=True)
    partner_signature = models.CharField(_("对方签名"), max_length=86, blank=True)
    created_by = models.ForeignKey("accounts.User", verbose_name=_("起草人"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    proposed_at = models.DateTimeField(_("发出时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("签署完成时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by_us = models.BooleanField(_("由本平台撤销"), null=True, blank=True)
    revoke_reason = models.TextField(_("撤销原因"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("合作框架协议")
        verbose_name_plural = _("合作框架协议")

    def __str__(self):
        return f"{self.partner.name} {str(self.uuid)[:8]}"

    def get_state_label(self, value):
        return AgreementState(value).label

    @property
    def text(self) -> str:
        return self.document.get("text", "")

    @transition(field=state, source=AgreementState.DRAFT, target=AgreementState.PROPOSED)
    def propose(self):
        pass

    @transition(field=state, source=AgreementState.PROPOSED, target=AgreementState.ACTIVE)
    def accept(self):
        pass

    @transition(field=state, source=[AgreementState.DRAFT, AgreementState.PROPOSED, AgreementState.ACTIVE], target=AgreementState.REVOKED)
    def revoke(self):
        pass


class InboundMessage(models.Model):
    """A message a partner sent us that passed every check and was acted on, with the response we
    gave (returned again, unchanged, when the same idempotency key comes back)."""

    partner = models.ForeignKey(Partner, verbose_name=_("发送方"), on_delete=models.PROTECT, related_name="inbound")
    type = models.CharField(_("类型"), max_length=64)
    nonce = models.CharField(max_length=32)
    idempotency_key = models.CharField(_("幂等键"), max_length=128)
    sent_at = models.DateTimeField(_("发送时间"))
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    envelope = models.JSONField(_("信封"))
    signature = models.CharField(_("签名"), max_length=86)
    body_hash = models.CharField(_("正文SHA-256"), max_length=64)
    agreement = models.ForeignKey(Agreement, verbose_name=_("依据协议"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    response = models.JSONField(_("应答"), default=dict)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("收到的消息")
        verbose_name_plural = _("收到的消息")
        constraints = [
            models.UniqueConstraint(fields=["partner", "nonce"], name="crossregion_inbound_unique_nonce"),
            models.UniqueConstraint(fields=["partner", "idempotency_key"], name="crossregion_inbound_unique_idempotency_key"),
        ]

    def __str__(self):
        return f"{self.type} ← {self.partner.region_code} {self.idempotency_key}"

    @property
    def body(self) -> dict:
        return self.envelope.get("body", {})


class OutboundState(models.TextChoices):
    PENDING = "pending", _("待送达")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("送达失败")


class OutboundMessage(models.Model):
    """The outbox: a message to a partner, written in the transaction of the change it reports and
    delivered after commit by crossregion.tasks.deliver; every attempt is signed afresh (new nonce and
    sent_at, same idempotency key), so the partner acts on it once however often it is retried."""

    partner = models.ForeignKey(Partner, verbose_name=_("接收方"), on_delete=models.PROTECT, related_name="outbound")
    type = models.CharField(_("类型"), max_length=64)
    idempotency_key = models.CharField(_("幂等键"), max_length=128, unique=True)
    body = models.JSONField(_("正文"))
    state = models.CharField(_("状态"), max_length=16, choices=OutboundState.choices, default=OutboundState.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_attempt_at = models.DateTimeField(_("最近尝试时间"), null=True, blank=True)
    last_status = models.PositiveIntegerField(_("最近HTTP状态"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    response = models.JSONField(_("应答"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("发出的消息")
        verbose_name_plural = _("发出的消息")
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="crossregion_outbox_due")]

    def __str__(self):
        return f"{self.type} → {self.partner.region_code} {self.idempotency_key}"

    @property
    def result(self) -> dict | None:
        """The partner's {"ok": true, "result": ...} result once delivered."""
        return (self.response or {}).get("result") if self.state == OutboundState.DELIVERED else None


class UsedToken(models.Model):
    """A federation token's jti, once accepted: a token signs in once (services/federation.py)."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    jti = models.CharField(max_length=32)
    subject = models.CharField(max_length=128)
    session = models.CharField(max_length=128)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("已使用的联合登录令牌")
        verbose_name_plural = _("已使用的联合登录令牌")
        constraints = [models.UniqueConstraint(fields=["partner", "jti"], name="crossregion_used_token_unique_jti")]


from crossregion.models_federation import FederatedIdentity  # noqa: E402,F401
from crossregion.models_replication import (  # noqa: E402,F401
    ReplicatedAnswer, ReplicatedBatch, ReplicatedEvent, ReplicatedSession, Replication, ReplicationBatch,
)
from crossregion.models_booking import Booking, BookingRole, BookingState, PartnerDrawing  # noqa: E402,F401
