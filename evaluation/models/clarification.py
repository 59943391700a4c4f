"""Clarifications during evaluation (澄清): the panel asks a bidder in writing with a deadline; the
bidder answers with attachments, signed with its signing key. A clarification may not change the
price or the substance of the bid."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ClarificationStatus(models.TextChoices):
    OPEN = "open", _("待答复")
    ANSWERED = "answered", _("已答复")
    EXPIRED = "expired", _("已逾期")


class EvaluationClarification(models.Model):
    session = models.ForeignKey("evaluation.EvaluationSession", on_delete=models.CASCADE, related_name="clarifications")
    bid = models.ForeignKey("bidding.Bid", on_delete=models.PROTECT, related_name="evaluation_clarifications")
    number = models.PositiveIntegerField(_("序号"))
    # "abnormally_low" requests the written explanation of P21 before the bid may be rejected.
    reason = models.CharField(_("类型"), max_length=24, default="general")
    question = models.TextField(_("澄清问题"))
    deadline = models.DateTimeField(_("答复截止时间"))
    asked_by = models.ForeignKey("evaluation.PanelMember", on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(_("发出时间"))
    status = models.CharField(_("状态"), max_length=16, choices=ClarificationStatus.choices, default=ClarificationStatus.OPEN)
    answer = models.TextField(_("答复内容"), blank=True)
    answered_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    # SHA-256 of the canonical answer statement (question, answer, attachment hashes) and the
    # bidder's ECDSA P-256 signature over it with its registered signing key.
    answer_sha256 = models.CharField(max_length=64, blank=True)
    answer_signature = models.TextField(blank=True)
    signing_key_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["session", "number"]
        verbose_name = _("评标澄清")
        verbose_name_plural = _("评标澄清")
        constraints = [models.UniqueConstraint(fields=["session", "number"], name="one_clarification_number")]


class ClarificationAttachment(models.Model):
    clarification = models.ForeignKey(EvaluationClarification, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="evaluation/clarifications/%Y/%m/", max_length=300)
    filename = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()
