"""The expert pool (专家库) of this platform, kept by centre staff."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Expert(models.Model):
    """An evaluation expert. `public_id` is the pseudonymous id used outside the centre (drawing
    records before the result, partner platforms); the name is shown only to centre staff until the
    drawing's result is published (R46)."""

    public_id = models.UUIDField(_("匿名编号"), default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField("accounts.User", verbose_name=_("登录账号"), null=True, blank=True, on_delete=models.PROTECT, related_name="expert")
    name = models.CharField(_("姓名"), max_length=100)
    certificate_number = models.CharField(_("专家证书编号"), max_length=40, unique=True)
    specialties = models.JSONField(_("专业"), default=list, help_text=_("专业代码列表，如 A08"))
    title = models.CharField(_("职称"), max_length=100, blank=True)
    years_of_practice = models.PositiveIntegerField(_("从业年限"), default=0)
    employer_name = models.CharField(_("工作单位"), max_length=200, blank=True)
    employer_credit_code = models.CharField(_("工作单位统一社会信用代码"), max_length=18, blank=True, db_index=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    active = models.BooleanField(_("在库"), default=True)
    created_at = models.DateTimeField(_("入库时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["certificate_number"]
        verbose_name = _("评标专家")
        verbose_name_plural = _("评标专家")

    def __str__(self):
        return f"{self.name} ({self.certificate_number})"


class ExpertConflict(models.Model):
    """A conflict of interest the expert declared (P12): an organisation it must not evaluate."""

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="conflicts")
    organisation_credit_code = models.CharField(_("统一社会信用代码"), max_length=18)
    organisation_name = models.CharField(_("单位名称"), max_length=200, blank=True)
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    declared_at = models.DateTimeField(_("申报时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("回避申报")
        verbose_name_plural = _("回避申报")
        constraints = [models.UniqueConstraint(fields=["expert", "organisation_credit_code"], name="one_conflict_per_org")]


class ExpertUnavailability(models.Model):
    """A period the expert cannot serve (leave, travel); a drawing whose session overlaps it skips them."""

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="unavailability")
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    reason = models.CharField(_("原因"), max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("不可参评时段")
        verbose_name_plural = _("不可参评时段")


class ExpertKey(models.Model):
    """An expert's (or tenderer representative's) registered PUBLIC signing key (ECDSA P-256), used
    to sign the evaluation report's hash. Created in the browser; the private key never leaves it."""

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="expert_keys")
    public_jwk = models.JSONField(_("公钥（JWK）"))
    fingerprint = models.CharField(_("指纹"), max_length=64, unique=True)
    registered_at = models.DateTimeField(_("登记时间"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        ordering = ["user", "-registered_at"]
        verbose_name = _("专家签名公钥")
        verbose_name_plural = _("专家签名公钥")
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=models.Q(revoked_at__isnull=True), name="one_active_expert_key"),
        ]
