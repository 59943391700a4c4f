"""The evaluation session of a lot and its live room: check-in, chair election, the stages in
order, each expert's verdicts and scores, and the results. The room's events are numbered per room
(opening/rooms.py); experts see each other's progress, never each other's values before a stage
is locked."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition


class SessionState(models.TextChoices):
    CHECKIN = "checkin", _("签到中")
    ELECTING = "electing", _("推选组长")
    REVIEWING = "reviewing", _("评审中")
    REPORTING = "reporting", _("评标报告签署中")
    FINISHED = "finished", _("评标结束")
    REJECTED_ALL = "rejected_all", _("否决所有投标")


class EvaluationSession(models.Model):
    """One lot's evaluation, open to its panel only within [starts_at, ends_at]."""

    lot = models.OneToOneField("tendering.Lot", verbose_name=_("标段"), on_delete=models.PROTECT, related_name="evaluation")
    drawing = models.OneToOneField("evaluation.Drawing", verbose_name=_("专家抽取"), on_delete=models.PROTECT, related_name="session")
    state = FSMField(_("状态"), max_length=16, choices=SessionState.choices, default=SessionState.CHECKIN)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    chair = models.ForeignKey("evaluation.PanelMember", verbose_name=_("组长"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    election_round = models.PositiveIntegerField(_("推选轮次"), default=1)
    # The price stage's benchmark with its working (formulas.BenchmarkResult as JSON, decimals as str).
    benchmark = models.JSONField(_("评标基准价"), default=dict, blank=True)
    rejected_all_reason = models.TextField(_("否决所有投标的理由"), blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    last_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("评标")
        verbose_name_plural = _("评标")

    def __str__(self):
        return f"{self.lot} ({self.get_state_display()})"

    def get_state_label(self, value):
        return SessionState(value).label

    @property
    def room(self) -> str:
        return f"evaluation-{self.lot_id}"

    @transition(field=state, source=SessionState.CHECKIN, target=SessionState.ELECTING)
    def start_election(self):
        pass

    @transition(field=state, source=SessionState.ELECTING, target=SessionState.REVIEWING)
    def start_review(self):
        pass

    @transition(field=state, source=SessionState.REVIEWING, target=SessionState.REPORTING)
    def start_report(self):
        pass

    @transition(field=state, source=SessionState.REPORTING, target=SessionState.FINISHED)
    def finish(self):
        pass

    @transition(field=state, source=[SessionState.REVIEWING, SessionState.REPORTING], target=SessionState.REJECTED_ALL)
    def reject_all(self):
        pass


class StageKind(models.TextChoices):
    QUALIFICATION = "qualification", _("资格审查")
    SCORING = "scoring", _("技术和商务评分")
    PRICE = "price", _("报价评分")
    RANKING = "ranking", _("汇总与排序")


STAGE_ORDER = [StageKind.QUALIFICATION, StageKind.SCORING, StageKind.PRICE, StageKind.RANKING]


class StageStatus(models.TextChoices):
    PENDING = "pending", _("未开始")
    OPEN = "open", _("进行中")
    LOCKED = "locked", _("已锁定")


class Stage(models.Model):
    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="stages")
    kind = models.CharField(_("评审阶段"), max_length=16, choices=StageKind.choices)
    order = models.PositiveSmallIntegerField()
    status = models.CharField(_("状态"), max_length=16, choices=StageStatus.choices, default=StageStatus.PENDING)
    opened_at = models.DateTimeField(null=True, blank=True)
    locked_at = models.DateTimeField(_("锁定时间"), null=True, blank=True)
    locked_by = models.ForeignKey("evaluation.PanelMember", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reopen_count = models.PositiveIntegerField(_("重新评审次数"), default=0)

    class Meta:
        ordering = ["session", "order"]
        constraints = [models.UniqueConstraint(fields=["session", "kind"], name="one_stage_per_kind")]


class StageReopening(models.Model):
    """The chair reopened a locked stage for re-scoring: why, and the values as they were (shown in
    the report's re-scoring history)."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="reopenings")
    reason = models.TextField(_("原因"))
    by = models.ForeignKey("evaluation.PanelMember", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["stage", "at"]


class ChairVote(models.Model):
    """One member's vote for the chair (组长) in one election round; one vote per member per round."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="chair_votes")
    round = models.PositiveIntegerField()
    voter = models.ForeignKey("evaluation.PanelMember", on_delete=models.PROTECT, related_name="+")
    candidate = models.ForeignKey("evaluation.PanelMember", on_delete=models.PROTECT, related_name="+")
    voted_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "round", "voter"], name="one_chair_vote_per_round")]


class QualificationVerdict(models.Model):
    """One member's pass/fail on one qualification criterion of one bid, with the reason."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="verdicts")
    member = models.ForeignKey("evaluation.PanelMember", on_delete=models.PROTECT, related_name="verdicts")
    bid = models.ForeignKey("bidding.Bid", on_delete=models.PROTECT, related_name="+")
    criterion = models.CharField(_("评审因素"), max_length=16)
    passed = models.BooleanField(_("合格"))
    reason = models.TextField(_("理由"), blank=True)
    submitted_at = models.DateTimeField()
    void = models.BooleanField(_("作废"), default=False)  # the member later recused

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "bid", "criterion"], name="one_verdict_per_member_bid_criterion")]


class Score(models.Model):
    """One member's score on one technical or commercial criterion of one bid, within the scheme's
    range and step. A score far from the panel mean needs a written reason before the stage locks."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="scores")
    member = models.ForeignKey("evaluation.PanelMember", on_delete=models.PROTECT, related_name="scores")
    bid = models.ForeignKey("bidding.Bid", on_delete=models.PROTECT, related_name="+")
    criterion = models.CharField(_("评审因素"), max_length=16)
    value = models.DecimalField(_("分值"), max_digits=6, decimal_places=2)
    reason = models.TextField(_("偏离说明"), blank=True)
    submitted_at = models.DateTimeField()
    void = models.BooleanField(_("作废"), default=False)  # the member later recused

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "bid", "criterion"], name="one_score_per_member_bid_criterion")]


class BidResult(models.Model):
    """What the panel concluded about one bid: qualification, aggregated scores, price score, total,
    rank, candidacy. Written by the services as stages lock; the report reads it."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="results")
    bid = models.ForeignKey("bidding.Bid", on_delete=models.PROTECT, related_name="+")
    price_fen = models.BigIntegerField(_("评审价格（分）"), null=True, blank=True)
    qualified = models.BooleanField(_("资格审查合格"), null=True, blank=True)
    qualification_reasons = models.JSONField(default=list, blank=True)
    technical = models.DecimalField(_("技术得分"), max_digits=6, decimal_places=2, null=True, blank=True)
    commercial = models.DecimalField(_("商务得分"), max_digits=6, decimal_places=2, null=True, blank=True)
    price_score = models.DecimalField(_("报价得分"), max_digits=6, decimal_places=2, null=True, blank=True)
    deviation_percent = models.CharField(_("偏差率（%）"), max_length=20, blank=True)
    total = models.DecimalField(_("总分"), max_digits=6, decimal_places=2, null=True, blank=True)
    rank = models.PositiveIntegerField(_("排名"), null=True, blank=True)
    candidate_rank = models.PositiveSmallIntegerField(_("中标候选人排序"), null=True, blank=True)
    abnormally_low = models.BooleanField(_("报价明显偏低"), default=False)
    rejected = models.BooleanField(_("否决投标"), default=False)
    rejection_reason = models.TextField(_("否决理由"), blank=True)

    class Meta:
        ordering = ["session", "rank", "bid"]
        constraints = [models.UniqueConstraint(fields=["session", "bid"], name="one_result_per_bid")]
