"""Federated sign-in at the host: the shadow account an away expert is signed in as.

An away expert (venue "away") never has a password here. The first time the expert's home platform
sends them with a valid federation token, the host creates a shadow user (role expert, unusable
password) and this row, which ties it to the partner and to the expert's pseudonymous id there.
A user with a FederatedIdentity is confined to the one evaluation room it was signed in for
(crossregion/confinement.py); docs/cross-region.md "Federated sign-in"."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FederatedIdentity(models.Model):
    user = models.OneToOneField("accounts.User", verbose_name=_("本平台影子账号"), on_delete=models.PROTECT, related_name="federated_identity")
    partner = models.ForeignKey("crossregion.Partner", verbose_name=_("所属平台"), on_delete=models.PROTECT, related_name="federated_identities")
    remote_expert_id = models.CharField(_("对方专家匿名编号"), max_length=128)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    last_sign_in_at = models.DateTimeField(_("最近登录时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("异地专家联合登录身份")
        verbose_name_plural = _("异地专家联合登录身份")
        constraints = [
            models.UniqueConstraint(fields=["partner", "remote_expert_id"], name="crossregion_federated_identity_unique_expert"),
        ]

    def __str__(self):
        return f"{self.partner.region_code}:{self.remote_expert_id}"
