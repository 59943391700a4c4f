"""The evaluation report (评标报告): a canonical statement and its PDF, signed by every member's
key or answered with a written dissent (R53). Final only when every serving member has done one."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportState(models.TextChoices):
    SIGNING = "signing", _("签署中")
    FINAL = "final", _("已定稿")
    SUPERSEDED = "superseded", _("已作废")


class EvaluationReport(models.Model):
    session = models.ForeignKey("evaluation.EvaluationSession", on_delete=models.CASCADE, related_name="reports")
    version = models.PositiveIntegerField(_("版本"))
    state = models.CharField(_("状态"), max_length=16, choices=ReportState.choices, default=ReportState.SIGNING)
    statement = models.JSONField(_("报告内容"))
    statement_sha256 = models.CharField(_("报告哈希"), max_length=64)
    pdf = models.FileField(upload_to="evaluation/reports/%Y/%m/", max_length=300, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    audit_head_seq = models.PositiveBigIntegerField(null=True, blank=True)
    audit_head_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    finalised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "-version"]
        verbose_name = _("评标报告")
        verbose_name_plural = _("评标报告")
        constraints = [models.UniqueConstraint(fields=["session", "version"], name="one_report_version")]


class ReportSignature(models.Model):
    report = models.ForeignKey(EvaluationReport, on_delete=models.CASCADE, related_name="signatures")
    member = models.ForeignKey("evaluation.PanelMember", on_delete=models.PROTECT, related_name="+")
    key = models.ForeignKey("evaluation.ExpertKey", on_delete=models.PROTECT, related_name="+")
    signature = models.TextField()  # base64 of the DER ECDSA signature over statement_sha256's bytes
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "member"], name="one_signature_per_member")]


class ReportDissent(models.Model):
    """A member's written dissent (R53): the member disagrees and says why, instead of signing."""

    report = models.ForeignKey(EvaluationReport, on_delete=models.CASCADE, related_name="dissents")
    member = models.ForeignKey("evaluation.PanelMember", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("不同意见"))
    written_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "member"], name="one_dissent_per_member")]
