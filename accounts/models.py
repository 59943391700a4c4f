from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext, gettext_lazy as _
from django_fsm import FSMField, transition

from accounts import credit_code


def credit_code_problem(exc: credit_code.CreditCodeError) -> str:
    """What is wrong with a credit code, in the user's language."""
    if exc.reason == credit_code.WRONG_LENGTH:
        return gettext("应为18位，实际为%(length)s位") % exc.details
    if exc.reason == credit_code.FORBIDDEN_CHARACTER:
        return gettext("不能包含字符“%(char)s”（代码中不使用 I、O、Z、S、V）") % exc.details
    if exc.reason == credit_code.DIVISION_NOT_DIGITS:
        return gettext("第3至8位应为行政区划代码（数字）")
    return gettext("校验码应为“%(expected)s”，实际为“%(got)s”，请核对") % exc.details


def validate_credit_code(value: str) -> None:
    try:
        credit_code.validate(value)
    except credit_code.CreditCodeError as exc:
        raise ValidationError(
            _("统一社会信用代码无效：%(reason)s"), params={"reason": credit_code_problem(exc)}, code="credit_code"
        ) from exc


class OrganisationKind(models.TextChoices):
    TENDERER = "tenderer", _("招标人")
    AGENCY = "agency", _("招标代理")
    BIDDER = "bidder", _("投标人")
    CENTRE = "centre", _("交易中心")
    REGULATOR = "regulator", _("监管部门")


class OrganisationStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已核验")
    REJECTED = "rejected", _("已退回")
    SUSPENDED = "suspended", _("已暂停")


# The data an organisation declares and the centre verifies. Changes to it after approval go
# through OrganisationChange; the verified version stays in force until the change is approved.
VERIFIED_FIELDS = ("name", "credit_code", "legal_representative", "address", "contact_phone", "qualifications")


class Organisation(models.Model):
    kind = models.CharField(_("类型"), max_length=16, choices=OrganisationKind.choices)
    name = models.CharField(_("名称"), max_length=200, unique=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code])
    legal_representative = models.CharField(_("法定代表人"), max_length=100, blank=True)
    address = models.CharField(_("地址"), max_length=300, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    region_code = models.CharField(_("行政区划代码"), max_length=6, blank=True)
    qualifications = models.CharField(_("资质"), max_length=500, blank=True, help_text=_("以逗号分隔，例如：建筑工程施工总承包一级"))
    status = FSMField(_("核验状态"), default=OrganisationStatus.DRAFT, choices=OrganisationStatus.choices)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey("accounts.User", verbose_name=_("审核人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_reason = models.TextField(_("审核意见"), blank=True)
    status_reason = models.TextField(_("暂停原因"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("单位")
        verbose_name_plural = _("单位")

    def __str__(self):
        return self.name

    def get_state_label(self, value):
        return OrganisationStatus(value).label

    @property
    def is_locked(self) -> bool:
        """Declared data cannot be edited while the centre reviews it, or once it is verified."""
        return self.status not in (OrganisationStatus.DRAFT, OrganisationStatus.REJECTED)

    @property
    def can_act(self) -> bool:
        return self.status == OrganisationStatus.APPROVED

    @property
    def qualification_list(self) -> list[str]:
        return [item.strip() for item in self.qualifications.replace("，", ",").split(",") if item.strip()]

    @transition(field=status, source=[OrganisationStatus.DRAFT, OrganisationStatus.REJECTED], target=OrganisationStatus.PENDING)
    def submit(self):
        pass

    @transition(field=status, source=OrganisationStatus.PENDING, target=OrganisationStatus.APPROVED)
    def approve(self):
        pass

    @transition(field=status, source=OrganisationStatus.PENDING, target=OrganisationStatus.REJECTED)
    def reject(self):
        pass

    @transition(field=status, source=OrganisationStatus.APPROVED, target=OrganisationStatus.SUSPENDED)
    def suspend(self):
        pass

    @transition(field=status, source=OrganisationStatus.SUSPENDED, target=OrganisationStatus.APPROVED)
    def restore(self):
        pass


class ChangeStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已退回")


class OrganisationChange(models.Model):
    """A change to verified data, in force only once the centre approves it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="changes")
    data = models.JSONField(_("变更内容"))
    status = FSMField(_("状态"), max_length=16, choices=ChangeStatus.choices, default=ChangeStatus.PENDING)
    requested_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    reviewed_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_reason = models.TextField(_("审核意见"), blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"], condition=models.Q(status="pending"), name="one_pending_change_per_organisation"
            )
        ]
        verbose_name = _("单位信息变更")
        verbose_name_plural = _("单位信息变更")

    def __str__(self):
        return f"{self.organisation} #{self.pk}"

    def get_state_label(self, value):
        return ChangeStatus(value).label

    def changed_fields(self) -> list[tuple[str, str, object, object]]:
        """(field, label, value in force, proposed value) for each field the change touches."""
        rows = []
        for field in VERIFIED_FIELDS:
            if field in self.data:
                label = Organisation._meta.get_field(field).verbose_name
                rows.append((field, label, getattr(self.organisation, field), self.data[field]))
        return rows

    @transition(field=status, source=ChangeStatus.PENDING, target=ChangeStatus.APPROVED)
    def approve(self):
        pass

    @transition(field=status, source=ChangeStatus.PENDING, target=ChangeStatus.REJECTED)
    def reject(self):
        pass


class Role(models.TextChoices):
    TENDERER = "tenderer", _("招标人")
    AGENCY = "agency", _("招标代理")
    BIDDER = "bidder", _("投标人")
    CENTRE = "centre", _("交易中心")
    REGULATOR = "regulator", _("监管人员")
    EXPERT = "expert", _("评标专家")


# A user's role must match the kind of organisation it belongs to; experts may belong to none.
ROLE_FOR_KIND = {kind.value: kind.value for kind in OrganisationKind}


class User(AbstractUser):
    organisation = models.ForeignKey(Organisation, verbose_name=_("单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="users")
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, blank=True)
    display_name = models.CharField(_("姓名"), max_length=100, blank=True)
    # An organisation's administrator (单位管理员) adds and disables its other users.
    is_org_admin = models.BooleanField(_("单位管理员"), default=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def clean(self):
        super().clean()
        if self.role and self.role != Role.EXPERT:
            if self.organisation is None or self.organisation.kind != self.role:
                raise ValidationError({"role": _("角色必须与所属单位类型一致。")})

    @property
    def label(self) -> str:
        return self.display_name or self.username


class ApiToken(models.Model):
    """A bearer token for the API and the bid tool. Only its SHA-256 is stored; the secret is
    shown once when it is created."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")


class Notification(models.Model):
    """A message the platform sends to an organisation (amendments, cancellations, invitations,
    review decisions). Read by any of its users in the inbox."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="notifications")
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    read_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")

    def __str__(self):
        return self.subject
