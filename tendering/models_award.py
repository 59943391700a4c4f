"""Publicity and award (公示与定标, R54, R55, L45, L46): the notices the tenderer or its agency drafts
and the centre approves before they go out, the candidate publicity period with its objections, the
award decision by the tender's method, and the contract registration due 30 days after the award
notice. The rules live in `tendering/services/award.py`; docs/publicity-and-award.md."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from tendering.models import AwardMethod  # defined before this module is imported at the end of tendering.models


class NoticeKind(models.TextChoices):
    CANDIDATE_PUBLICITY = "candidate_publicity", _("中标候选人公示")
    RESULT = "result", _("中标结果公告")
    AWARD_NOTICE = "award_notice", _("中标通知书")
    NON_AWARD_NOTICE = "non_award_notice", _("中标结果通知书")


# Published to everyone once issued; the others go to their recipient only.
PUBLIC_NOTICE_KINDS = (NoticeKind.CANDIDATE_PUBLICITY, NoticeKind.RESULT)


class NoticeState(models.TextChoices):
    PENDING = "pending", _("待交易中心审核")
    RETURNED = "returned", _("已退回修改")
    ISSUED = "issued", _("已发出")


def notice_upload_to(instance, filename):
    return f"notices/{instance.lot.tender_id}/{instance.lot_id}/{instance.kind}-{instance.pk}-{filename}"


class Notice(models.Model):
    """A notice about a lot's outcome. Drafted by the tenderer or agency; goes out only when centre
    staff approve it (who and when recorded), then as a PDF with its SHA-256. The result
    announcement heads a bundle: the award notice to the winner and a notice to each other bidder
    are drafted, approved (or returned) and issued with it."""

    lot = models.ForeignKey("tendering.Lot", verbose_name=_("标段"), on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(_("类型"), max_length=24, choices=NoticeKind.choices)
    bundle = models.ForeignKey("self", verbose_name=_("所属公告"), null=True, blank=True, on_delete=models.CASCADE, related_name="bundled")
    state = FSMField(_("状态"), max_length=16, choices=NoticeState.choices, default=NoticeState.PENDING)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"), blank=True)
    # What the platform fills in from the record (candidates, winner, prices, period); the PDF prints it.
    fields = models.JSONField(_("公告要素"), default=dict, blank=True)
    recipient = models.ForeignKey("accounts.Organisation", verbose_name=_("收件单位"), null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="notices_received")
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("起草人"), on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField(_("起草时间"))
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    approved_at = models.DateTimeField(_("审核通过时间"), null=True, blank=True)
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("退回人"), null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)
    return_reason = models.TextField(_("退回理由"), blank=True)
    issued_at = models.DateTimeField(_("发出时间"), null=True, blank=True)
    pdf = models.FileField(_("PDF"), upload_to=notice_upload_to, max_length=300, blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)

    class Meta:
        ordering = ["lot", "drafted_at", "pk"]
        verbose_name = _("公告及通知书")
        verbose_name_plural = _("公告及通知书")

    def __str__(self):
        return f"{self.get_kind_display()} {self.lot}"

    def get_state_label(self, value):
        return NoticeState(value).label

    @property
    def is_public(self) -> bool:
        return self.kind in PUBLIC_NOTICE_KINDS

    @transition(field=state, source=NoticeState.PENDING, target=NoticeState.ISSUED)
    def issue(self):
        pass

    @transition(field=state, source=NoticeState.PENDING, target=NoticeState.RETURNED)
    def return_for_changes(self):
        pass

    @transition(field=state, source=NoticeState.RETURNED, target=NoticeState.PENDING)
    def resubmit(self):
        pass


class CandidatePublicity(models.Model):
    """中标候选人公示 (R54): within 3 days of receiving the report, for at least 3 days (both divided by
    the sandbox accelerator). Starts when its notice is issued."""

    lot = models.OneToOneField("tendering.Lot", verbose_name=_("标段"), on_delete=models.PROTECT, related_name="publicity")
    notice = models.OneToOneField(Notice, verbose_name=_("公示"), on_delete=models.PROTECT, related_name="publicity")
    report = models.ForeignKey("evaluation.EvaluationReport", verbose_name=_("评标报告"), on_delete=models.PROTECT, related_name="+")
    report_received_at = models.DateTimeField(_("收到评标报告时间"))
    due_by = models.DateTimeField(_("应公示时间"))
    late = models.BooleanField(_("逾期公示"), default=False)
    starts_at = models.DateTimeField(_("公示开始时间"))
    ends_at = models.DateTimeField(_("公示结束时间"))

    class Meta:
        verbose_name = _("中标候选人公示期")
        verbose_name_plural = _("中标候选人公示期")


class PublicityObjection(models.Model):
    """异议 to the candidates (R54): raised during the publicity by a bidder or another interested
    party, answered within 3 days; the lot is suspended until every one is answered."""

    publicity = models.ForeignKey(CandidatePublicity, on_delete=models.CASCADE, related_name="objections")
    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("异议人"), on_delete=models.PROTECT, related_name="+")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("异议内容"))
    raised_at = models.DateTimeField(_("提出时间"))
    answer_due = models.DateTimeField(_("答复期限"))
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    overdue_reported_at = models.DateTimeField(_("逾期报告时间"), null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "pk"]
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")

    @property
    def is_open(self) -> bool:
        return self.answered_at is None


class AwardDecision(models.Model):
    """定标: the winner among the candidates, by the tender's method, with the votes and the lot
    drawing as recorded (评定分离)."""

    lot = models.OneToOneField("tendering.Lot", verbose_name=_("标段"), on_delete=models.PROTECT, related_name="award_decision")
    method = models.CharField(_("定标方法"), max_length=16, choices=AwardMethod.choices)
    state_funded = models.BooleanField(_("国有资金占控股或主导地位"))
    # [{"bid": id, "organisation": id, "name": ..., "candidate_rank": n, "price_fen": ..., "total": "..."}]
    candidates = models.JSONField(_("中标候选人"))
    winner_bid = models.ForeignKey("bidding.Bid", verbose_name=_("中标投标"), on_delete=models.PROTECT, related_name="+")
    winner = models.ForeignKey("accounts.Organisation", verbose_name=_("中标人"), on_delete=models.PROTECT, related_name="+")
    price_fen = models.BigIntegerField(_("中标价（分）"), null=True, blank=True)
    # [{"voter": "张三", "candidate_rank": 1}, ...] and the tally; the lot drawing with its seed.
    votes = models.JSONField(_("投票记录"), default=list, blank=True)
    tally = models.JSONField(_("计票结果"), default=dict, blank=True)
    lot_drawing = models.JSONField(_("抽签记录"), default=dict, blank=True)
    reason = models.TextField(_("定标说明"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("定标记录人"), on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("定标时间"))

    class Meta:
        verbose_name = _("定标")
        verbose_name_plural = _("定标")


class ContractRegistration(models.Model):
    """合同登记 (L46): the contract is signed within 30 days of the award notice; one not registered
    by then is flagged overdue (once, by the chronograph, with an audit event)."""

    lot = models.OneToOneField("tendering.Lot", verbose_name=_("标段"), on_delete=models.PROTECT, related_name="contract_registration")
    award_notice = models.OneToOneField(Notice, verbose_name=_("中标通知书"), on_delete=models.PROTECT, related_name="contract_registration")
    due_at = models.DateTimeField(_("合同签订期限"))
    signed_at = models.DateTimeField(_("合同签订时间"), null=True, blank=True)
    amount_fen = models.BigIntegerField(_("合同金额（分）"), null=True, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(_("登记时间"), null=True, blank=True)
    overdue_flagged_at = models.DateTimeField(_("逾期标记时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("合同登记")
        verbose_name_plural = _("合同登记")

    @property
    def is_registered(self) -> bool:
        return self.registered_at is not None
