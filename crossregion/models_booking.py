"""Venue booking (场地预约) between two platforms and the partner's drawing for it
(docs/cross-region.md, "Booking and assignment").

Both platforms keep a Booking with the same uuid: the host's (role "host", tied to its lot) and the
partner's (role "partner", holding what the host named: tender, lot, session, seats, the parties
for recusal). Every step moves both through the same states by signed messages:

    requested --approve--> approved          (the partner drew; the signed assignment travels back)
    requested --reject---> rejected
    requested --propose--> proposed --accept--> requested (new terms, revision + 1)
    requested / proposed / approved --cancel--> cancelled   (either side)

The partner's PartnerDrawing is the same verifiable drawing as a lot's (evaluation/drawing.py): a
seed committed in the partner's audit trail before the draw, the request and the eligible pool
stored verbatim, rounds for replacements; `manage.py partner_drawing_verify <id>` re-runs it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition


class BookingRole(models.TextChoices):
    HOST = "host", _("本平台为主场")
    PARTNER = "partner", _("本平台为异地场地")


class BookingState(models.TextChoices):
    REQUESTED = "requested", _("待对方答复")
    PROPOSED = "proposed", _("对方建议调整")
    APPROVED = "approved", _("已同意并抽取")
    REJECTED = "rejected", _("已拒绝")
    CANCELLED = "cancelled", _("已取消")


OPEN_STATES = (BookingState.REQUESTED, BookingState.PROPOSED, BookingState.APPROVED)


class Booking(models.Model):
    uuid = models.UUIDField(_("预约编号"))
    role = models.CharField(_("角色"), max_length=8, choices=BookingRole.choices)
    partner = models.ForeignKey("crossregion.Partner", verbose_name=_("合作平台"), on_delete=models.PROTECT, related_name="bookings")
    state = FSMField(_("状态"), max_length=16, choices=BookingState.choices, default=BookingState.REQUESTED)
    revision = models.PositiveIntegerField(_("条件版本"), default=1)
    lot = models.ForeignKey("tendering.Lot", verbose_name=_("标段"), null=True, blank=True, on_delete=models.PROTECT, related_name="bookings")
    # What the host named (the partner has no tender or lot of its own for it).
    tender_code = models.CharField(_("项目编号"), max_length=64)
    tender_title = models.CharField(_("项目名称"), max_length=300, blank=True)
    lot_ref = models.CharField(_("主场标段编号"), max_length=32)  # the host's lot id (the federation token's session)
    lot_label = models.CharField(_("标段"), max_length=300, blank=True)
    starts_at = models.DateTimeField(_("评标开始时间"))
    ends_at = models.DateTimeField(_("评标结束时间"))
    seats = models.JSONField(_("席位（专业及人数）"))  # [{"specialty": "A08", "count": 2}]
    panel = models.JSONField(_("评标委员会其余席位"), default=dict)  # {"home_experts": 3, "tenderer_representatives": 0}
    parties = models.JSONField(_("回避单位"), default=dict)  # {"tenderer": {...}, "bidders": [...], "agency": {...}|None}
    proposal = models.JSONField(_("调整建议"), default=dict, blank=True)  # {"starts_at", "ends_at", "seats", "note"}
    reason = models.TextField(_("拒绝或取消原因"), blank=True)
    cancelled_by_us = models.BooleanField(_("由本平台取消"), null=True, blank=True)
    assignment = models.JSONField(_("专家指派（签名文件）"), default=dict, blank=True)  # {"document", "signature", "key_id"}
    assignment_version = models.PositiveIntegerField(_("指派版本"), default=0)
    # At the result: the partner's signed names of the assigned experts and its drawing's revealed seed
    # ({"document", "signature", "key_id"}, etender-assignment-names/1; booking.names).
    names = models.JSONField(_("专家姓名（结果公布后，签名文件）"), default=dict, blank=True)
    history = models.JSONField(_("经过"), default=list)  # [{"at", "step", "by", "note"}]
    requested_by = models.ForeignKey("accounts.User", verbose_name=_("申请人"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("场地预约")
        verbose_name_plural = _("场地预约")
        constraints = [models.UniqueConstraint(fields=["partner", "uuid"], name="crossregion_booking_unique_uuid")]

    def __str__(self):
        return f"{self.tender_code} {self.lot_label} → {self.partner.name}" if self.role == BookingRole.HOST else f"{self.partner.name} {self.tender_code} {self.lot_label}"

    def get_state_label(self, value):
        return BookingState(value).label

    @property
    def seat_count(self) -> int:
        return sum(int(seat["count"]) for seat in self.seats or [])

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @transition(field=state, source=BookingState.REQUESTED, target=BookingState.APPROVED)
    def approve(self):
        pass

    @transition(field=state, source=BookingState.REQUESTED, target=BookingState.REJECTED)
    def reject(self):
        pass

    @transition(field=state, source=BookingState.REQUESTED, target=BookingState.PROPOSED)
    def propose(self):
        pass

    @transition(field=state, source=BookingState.PROPOSED, target=BookingState.REQUESTED)
    def accept(self):
        pass

    @transition(field=state, source=list(OPEN_STATES), target=BookingState.CANCELLED)
    def cancel(self):
        pass


class PartnerDrawing(models.Model):
    """The partner's drawing of a booking's seats from its own pool (evaluation/drawing.py, the same
    algorithm and records as evaluation.Drawing, without a local lot). `request_json` carries the
    host's other seats as remote_experts so the panel rules hold over the whole panel."""

    booking = models.OneToOneField(Booking, verbose_name=_("场地预约"), on_delete=models.PROTECT, related_name="drawing")
    seed_commitment = models.CharField(_("种子承诺（SHA-256）"), max_length=64)
    seed_hex = models.CharField(max_length=64, editable=False)  # secret until revealed
    seed_revealed = models.BooleanField(_("种子已公开"), default=False)
    request_json = models.JSONField(_("抽取请求"))
    eligible = models.JSONField(_("合格专家（按专业，匿名编号排序）"))
    excluded = models.JSONField(_("回避及排除"), default=list)
    rounds = models.JSONField(_("抽取轮次"), default=list)
    drawn_by = models.ForeignKey("accounts.User", verbose_name=_("抽取人"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    drawn_at = models.DateTimeField(_("抽取时间"))

    class Meta:
        verbose_name = _("异地专家抽取")
        verbose_name_plural = _("异地专家抽取")

    def __str__(self):
        return f"{self.booking} #{self.pk}"
