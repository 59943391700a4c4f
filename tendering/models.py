"""Projects, tenders, lots and the documents around them. The lifecycle lives here as
django-fsm transitions; the rules that decide *when* a transition is allowed live in
`tendering/services/` (request time) and `tendering/chronograph.py` (clock time)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, transition


class Project(models.Model):
    """工程项目: a construction project that one or more tenders procure for."""

    code = models.CharField(_("项目编号"), max_length=40, unique=True)
    name = models.CharField(_("项目名称"), max_length=200)
    tenderer = models.ForeignKey("accounts.Organisation", verbose_name=_("招标人"), on_delete=models.PROTECT, related_name="projects")
    # 委托代理: the agency the tenderer mandates for this project; only it may draft tenders for it.
    agency = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("委托代理机构"), null=True, blank=True, on_delete=models.PROTECT, related_name="mandated_projects"
    )
    location = models.CharField(_("建设地点"), max_length=200, blank=True)
    approval_number = models.CharField(_("立项批文"), max_length=100, blank=True)
    investment_fen = models.BigIntegerField(_("总投资（分）"), null=True, blank=True)
    funding_source = models.CharField(_("资金来源"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("工程项目")
        verbose_name_plural = _("工程项目")

    def __str__(self):
        return f"{self.code} {self.name}"


class Procedure(models.TextChoices):
    OPEN = "open", _("公开招标")
    INVITED = "invited", _("邀请招标")


class BidScope(models.TextChoices):
    SINGLE_LOT = "single_lot", _("每份投标只投一个标段")
    MULTIPLE_LOTS = "multiple_lots", _("可同时投多个标段")


class TenderState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待审核")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("审核通过")
    PUBLISHED = "published", _("已发布")
    CANCELLED = "cancelled", _("已终止")


EDITABLE_TENDER_STATES = (TenderState.DRAFT, TenderState.RETURNED)


class AwardMethod(models.TextChoices):
    """How the tenderer chooses the winner among the candidates, fixed in the tender (定标方法).
    A state-funded tender awards the first candidate (R55); the others may use 评定分离."""

    FIRST_CANDIDATE = "first_candidate", _("确定排名第一的中标候选人")
    DIRECT_VOTE = "direct_vote", _("定标委员会直接票决")
    VOTE_THEN_LOT = "vote_then_lot", _("票决抽签（评定分离）")


class Tender(models.Model):
    """招标项目: reviewed and published as a whole; after publication each lot moves on its own."""

    project = models.ForeignKey(Project, verbose_name=_("工程项目"), on_delete=models.PROTECT, related_name="tenders")
    code = models.CharField(_("招标项目编号"), max_length=40, unique=True)
    title = models.CharField(_("招标项目名称"), max_length=200)
    procedure = models.CharField(_("招标方式"), max_length=16, choices=Procedure.choices, default=Procedure.OPEN)
    tenderer = models.ForeignKey("accounts.Organisation", verbose_name=_("招标人"), on_delete=models.PROTECT, related_name="tenders_as_tenderer")
    agency = models.ForeignKey("accounts.Organisation", verbose_name=_("招标代理"), null=True, blank=True, on_delete=models.PROTECT, related_name="tenders_as_agency")
    announcement = models.TextField(_("公告正文"), blank=True)
    bid_scope = models.CharField(_("投标范围"), max_length=16, choices=BidScope.choices, default=BidScope.SINGLE_LOT)
    bidder_requirements = models.TextField(_("投标人资格要求"), blank=True)
    documents_offer_end = models.DateTimeField(_("招标文件获取截止时间"), null=True, blank=True)
    bid_deadline = models.DateTimeField(_("投标截止时间"), null=True, blank=True)
    invitation_reply_deadline = models.DateTimeField(_("邀请回复截止时间"), null=True, blank=True)
    accelerator = models.PositiveIntegerField(_("沙箱加速倍数"), default=1)
    evaluation_scheme = models.JSONField(_("评标办法"), default=dict, blank=True)
    # 国有资金占控股或者主导地位: the award then goes to the first candidate (R55).
    state_funded = models.BooleanField(_("国有资金占控股或主导地位"), default=True)
    award_method = models.CharField(_("定标方法"), max_length=16, choices=AwardMethod.choices, default=AwardMethod.FIRST_CANDIDATE)
    state = FSMField(_("状态"), default=TenderState.DRAFT, choices=TenderState.choices)
    submitted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_reason = models.TextField(_("审核意见"), blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    cancelled_reason = models.TextField(_("终止原因"), blank=True)
    cancelled_at = models.DateTimeField(_("终止时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("招标项目")
        verbose_name_plural = _("招标项目")

    def __str__(self):
        return f"{self.code} {self.title}"

    def get_state_label(self, value):
        return TenderState(value).label

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_TENDER_STATES

    @transition(field=state, source=[TenderState.DRAFT, TenderState.RETURNED], target=TenderState.SUBMITTED)
    def submit(self):
        pass

    @transition(field=state, source=TenderState.SUBMITTED, target=TenderState.APPROVED)
    def approve(self):
        pass

    @transition(field=state, source=TenderState.SUBMITTED, target=TenderState.RETURNED)
    def return_for_changes(self):
        pass

    @transition(field=state, source=TenderState.APPROVED, target=TenderState.PUBLISHED)
    def publish(self):
        pass

    @transition(
        field=state,
        source=[TenderState.DRAFT, TenderState.SUBMITTED, TenderState.RETURNED, TenderState.APPROVED, TenderState.PUBLISHED],
        target=TenderState.CANCELLED,
    )
    def cancel(self):
        pass


class LotState(models.TextChoices):
    DRAFT = "draft", _("未发布")
    PUBLISHED = "published", _("投标中")
    CLOSED = "closed", _("已截标")
    OPENING = "opening", _("开标中")
    EVALUATING = "evaluating", _("评标中")
    PUBLICIZING = "publicizing", _("公示中")
    AWARDED = "awarded", _("已定标")
    CONTRACTED = "contracted", _("已签约")
    FAILED = "failed", _("流标")
    CANCELLED = "cancelled", _("已终止")
    SUSPENDED = "suspended", _("暂停")


class SuspensionKind(models.TextChoices):
    OBJECTION = "objection", _("异议处理")
    MANUAL = "manual", _("招标人暂停")
    PUBLICITY_OBJECTION = "publicity", _("公示异议处理")


SUSPENDABLE_LOT_STATES = [LotState.PUBLISHED, LotState.CLOSED, LotState.OPENING, LotState.EVALUATING, LotState.PUBLICIZING]
CANCELLABLE_LOT_STATES = [LotState.DRAFT, *SUSPENDABLE_LOT_STATES, LotState.SUSPENDED]


class Lot(models.Model):
    """标段: bids, openings and evaluations happen per lot."""

    tender = models.ForeignKey(Tender, verbose_name=_("招标项目"), on_delete=models.CASCADE, related_name="lots")
    number = models.PositiveIntegerField(_("标段号"))
    name = models.CharField(_("标段名称"), max_length=200)
    description = models.TextField(_("标段内容"), blank=True)
    maximum_price_fen = models.BigIntegerField(_("最高投标限价（分）"), null=True, blank=True)
    state = FSMField(_("状态"), default=LotState.DRAFT, choices=LotState.choices)
    suspended_from = models.CharField(_("暂停前状态"), max_length=16, blank=True, choices=LotState.choices)
    # Why and since when the lot is suspended: objections resume only the lots they suspended,
    # and the time suspended is given back to the bidders (R22).
    suspension_kind = models.CharField(_("暂停原因类型"), max_length=16, blank=True, choices=SuspensionKind.choices)
    suspended_at = models.DateTimeField(_("暂停开始时间"), null=True, blank=True)
    state_reason = models.TextField(_("状态说明"), blank=True)
    state_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)

    class Meta:
        ordering = ["tender", "number"]
        constraints = [models.UniqueConstraint(fields=["tender", "number"], name="unique_lot_number_per_tender")]
        verbose_name = _("标段")
        verbose_name_plural = _("标段")

    def __str__(self):
        return f"{self.tender.code}-{self.number:02d} {self.name}"

    def get_state_label(self, value):
        return LotState(value).label

    @transition(field=state, source=LotState.DRAFT, target=LotState.PUBLISHED)
    def publish(self):
        pass

    @transition(field=state, source=LotState.PUBLISHED, target=LotState.CLOSED)
    def close(self):
        pass

    @transition(field=state, source=LotState.CLOSED, target=LotState.OPENING)
    def start_opening(self):
        pass

    @transition(field=state, source=LotState.OPENING, target=LotState.EVALUATING)
    def start_evaluation(self):
        pass

    @transition(field=state, source=LotState.EVALUATING, target=LotState.PUBLICIZING)
    def publicize(self):
        pass

    @transition(field=state, source=LotState.PUBLICIZING, target=LotState.AWARDED)
    def award(self):
        pass

    @transition(field=state, source=LotState.AWARDED, target=LotState.CONTRACTED)
    def contract(self):
        pass

    @transition(field=state, source=[LotState.CLOSED, LotState.OPENING, LotState.EVALUATING], target=LotState.FAILED)
    def fail(self):
        pass

    @transition(field=state, source=CANCELLABLE_LOT_STATES, target=LotState.CANCELLED)
    def cancel(self):
        pass

    @transition(field=state, source=SUSPENDABLE_LOT_STATES, target=LotState.SUSPENDED)
    def suspend(self):
        self.suspended_from = self.state

    @transition(field=state, source=LotState.SUSPENDED, target=RETURN_VALUE(*SUSPENDABLE_LOT_STATES))
    def resume(self):
        previous, self.suspended_from = self.suspended_from, ""
        self.suspension_kind, self.suspended_at = "", None
        return previous


def document_upload_to(instance, filename):
    return f"tenders/{instance.tender_id}/documents/{instance.sha256[:2]}/{instance.sha256}"


class TenderDocument(models.Model):
    """A versioned file of the tender documents. Its SHA-256 is shown and signed by the platform."""

    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="documents")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.CASCADE, related_name="documents")
    clarification = models.ForeignKey("Clarification", null=True, blank=True, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("文件名称"), max_length=200)
    version = models.PositiveIntegerField(_("版本"), default=1)
    file = models.FileField(_("文件"), upload_to=document_upload_to, max_length=300)
    filename = models.CharField(_("原文件名"), max_length=255)
    size = models.BigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    signature = models.CharField(_("平台签名"), max_length=128, blank=True)
    signing_key_id = models.CharField(_("签名密钥"), max_length=64, blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["tender", "title", "version"]
        constraints = [models.UniqueConstraint(fields=["tender", "title", "version"], name="unique_document_version")]
        verbose_name = _("招标文件")
        verbose_name_plural = _("招标文件")

    def __str__(self):
        return f"{self.title} v{self.version}"


class ClarificationKind(models.TextChoices):
    CLARIFICATION = "clarification", _("澄清")
    AMENDMENT = "amendment", _("修改")


class Clarification(models.Model):
    """澄清 / 修改 of the tender documents, numbered per tender and acknowledged by each bidder
    that obtained the documents."""

    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="clarifications")
    number = models.PositiveIntegerField(_("序号"))
    kind = models.CharField(_("类型"), max_length=16, choices=ClarificationKind.choices)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    affects_bids = models.BooleanField(_("影响投标文件编制"), default=True)
    previous_deadline = models.DateTimeField(_("原投标截止时间"))
    new_deadline = models.DateTimeField(_("新投标截止时间"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("发布时间"))

    class Meta:
        ordering = ["tender", "number"]
        constraints = [models.UniqueConstraint(fields=["tender", "number"], name="unique_clarification_number")]
        verbose_name = _("澄清与修改")
        verbose_name_plural = _("澄清与修改")

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}: {self.title}"


class ClarificationAck(models.Model):
    clarification = models.ForeignKey(Clarification, on_delete=models.CASCADE, related_name="acks")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(_("确认时间"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clarification", "organisation"], name="one_ack_per_bidder")]


class BidderRegistration(models.Model):
    """A bidder that obtained the tender documents (获取招标文件). Confidential until the opening
    (L22, E21): visible to the bidder itself, the tenderer and its agency, centre and regulators."""

    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="registrations")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="tender_registrations")
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(_("报名时间"))
    ip = models.CharField(max_length=45, blank=True, null=True)

    class Meta:
        ordering = ["registered_at"]
        constraints = [models.UniqueConstraint(fields=["tender", "organisation"], name="one_registration_per_bidder")]
        verbose_name = _("投标报名")
        verbose_name_plural = _("投标报名")


class DocumentDownload(models.Model):
    document = models.ForeignKey(TenderDocument, on_delete=models.CASCADE, related_name="downloads")
    organisation = models.ForeignKey("accounts.Organisation", null=True, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    downloaded_at = models.DateTimeField(_("下载时间"))
    ip = models.CharField(max_length=45, blank=True, null=True)

    class Meta:
        ordering = ["downloaded_at"]


class Question(models.Model):
    """A bidder's question; the answer is published to everyone without naming the asker."""

    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="questions")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("问题"))
    asked_at = models.DateTimeField(_("提问时间"))
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    class Meta:
        ordering = ["asked_at"]


class Objection(models.Model):
    """异议 to the tender documents (R22): raised until 10 days before the deadline, answered
    within 3 days; the tender's lots are suspended until every objection is answered."""

    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="objections")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("异议内容"))
    raised_at = models.DateTimeField(_("提出时间"))
    answer_due = models.DateTimeField(_("答复期限"))
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    # Set once by the chronograph when the answer is late, so the overdue report is made once.
    overdue_reported_at = models.DateTimeField(_("逾期报告时间"), null=True, blank=True)

    class Meta:
        ordering = ["raised_at"]

    @property
    def is_open(self) -> bool:
        return self.answered_at is None


class InvitationStatus(models.TextChoices):
    DRAFT = "draft", _("待发出")
    SENT = "sent", _("已发出")
    ACCEPTED = "accepted", _("已接受")
    DECLINED = "declined", _("已谢绝")
    EXPIRED = "expired", _("逾期未回复")


class Invitation(models.Model):
    """投标邀请书 of an invited tender (邀请招标), to a verified bidder chosen by criteria."""

    tender = models.ForeignKey(Tender, on_delete=models.CASCADE, related_name="invitations")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="invitations")
    criteria = models.JSONField(_("选择条件"), default=dict)
    status = models.CharField(_("状态"), max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.DRAFT)
    sent_at = models.DateTimeField(_("发出时间"), null=True, blank=True)
    replied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    replied_at = models.DateTimeField(_("回复时间"), null=True, blank=True)

    class Meta:
        ordering = ["tender", "organisation__name"]
        constraints = [models.UniqueConstraint(fields=["tender", "organisation"], name="one_invitation_per_bidder")]


class CodeSequence(models.Model):
    """The last number handed out for a code prefix (e.g. tender codes "441900-2026-"). Locked
    row by row, so two tenders created at once never get the same code."""

    prefix = models.CharField(max_length=40, unique=True)
    last = models.PositiveIntegerField(default=0)


from tendering.models_award import (  # noqa: F401  (publicity and award: one module, one app)
    AwardDecision,
    CandidatePublicity,
    ContractRegistration,
    Notice,
    NoticeKind,
    NoticeState,
    PublicityObjection,
)
