from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One link of the append-only chain (E49). `body` is what is hashed; the other columns are
    copies kept for searching, and `audit_verify` checks that they still agree with the body."""

    seq = models.BigIntegerField(_("序号"), primary_key=True)
    occurred_at = models.DateTimeField(_("时间"), db_index=True)
    actor_id = models.BigIntegerField(_("操作人编号"), null=True, db_index=True)
    actor_name = models.CharField(_("操作人"), max_length=150)
    role = models.CharField(_("角色"), max_length=32, blank=True)
    organisation_id = models.BigIntegerField(_("单位编号"), null=True, db_index=True)
    ip = models.CharField(_("IP 地址"), max_length=45, blank=True, null=True, db_index=True)
    action = models.CharField(_("动作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    tender_id = models.BigIntegerField(_("招标项目编号"), null=True, db_index=True)
    body = models.TextField(_("规范化内容"))
    prev_hash = models.CharField(_("前一哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")

    def __str__(self):
        return f"#{self.seq} {self.action}"
