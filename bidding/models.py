"""Bids. Minimal for now: enough for the chronograph to count the bids of a lot at its deadline;
the sealed-bid format, uploads and receipts extend this model."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BidStatus(models.TextChoices):
    RECEIVED = "received", _("已递交")
    REPLACED = "replaced", _("已被替换")
    WITHDRAWN = "withdrawn", _("已撤回")
    REVOKED = "revoked", _("已撤销")
    REJECTED = "rejected", _("已否决")


# Statuses of a bid that still counts at the deadline (L28, R44 count these).
VALID_BID_STATUSES = (BidStatus.RECEIVED,)


class Bid(models.Model):
    lot = models.ForeignKey("tendering.Lot", verbose_name=_("标段"), on_delete=models.PROTECT, related_name="bids")
    bidder = models.ForeignKey("accounts.Organisation", verbose_name=_("投标人"), on_delete=models.PROTECT, related_name="bids")
    status = models.CharField(_("状态"), max_length=16, choices=BidStatus.choices, default=BidStatus.RECEIVED)
    received_at = models.DateTimeField(_("递交时间"))

    class Meta:
        ordering = ["lot", "received_at"]
        verbose_name = _("投标文件")
        verbose_name_plural = _("投标文件")
        constraints = [
            # One bid in force per bidder and lot; replacing one marks the old one REPLACED first.
            models.UniqueConstraint(fields=["lot", "bidder"], condition=models.Q(status="received"), name="one_received_bid_per_bidder_and_lot")
        ]

    def __str__(self):
        return f"{self.lot} / {self.bidder} ({self.get_status_display()})"
