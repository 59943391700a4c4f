"""Replication of an evaluation session to a partner platform (docs/cross-region.md, "Replication").

Host side: a Replication per (lot, partner) — the subscription made when the partner's venue booking
is approved — and the ReplicationBatch rows it sent, each through the outbox (OutboundMessage).
Partner side: a ReplicatedSession per (partner, host lot) with the batches applied
(ReplicatedBatch), the room's events (ReplicatedEvent), the final report and its answers
(ReplicatedAnswer: signatures verified, dissents)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Replication(models.Model):
    """Host: the lot's evaluation is pushed to `partner` as numbered batches. A batch is built only
    once the previous one is delivered, so the partner receives them in order."""

    lot = models.ForeignKey("tendering.Lot", verbose_name=_("标段"), on_delete=models.PROTECT, related_name="replications")
    partner = models.ForeignKey("crossregion.Partner", verbose_name=_("合作平台"), on_delete=models.PROTECT, related_name="replications")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    last_batch_seq = models.PositiveIntegerField(_("最近批次号"), default=0)
    last_batch_sha256 = models.CharField(max_length=64, default="0" * 64)
    last_event_seq = models.PositiveBigIntegerField(_("已发送的事件号"), default=0)
    session_sent = models.BooleanField(default=False)
    report_version_sent = models.PositiveIntegerField(null=True, blank=True)
    report_sha256_sent = models.CharField(max_length=64, blank=True)
    # What the partner answered for the report: the statement hash it recomputed ("same record").
    partner_report_sha256 = models.CharField(max_length=64, blank=True)
    partner_last_batch_seq = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("评标过程同步")
        verbose_name_plural = _("评标过程同步")
        constraints = [models.UniqueConstraint(fields=["lot", "partner"], name="crossregion_one_replication_per_partner")]

    def __str__(self):
        return f"{self.lot} → {self.partner.region_code}"


class ReplicationBatch(models.Model):
    """Host: one batch sent (its body as sent, its hash, the outbox message carrying it)."""

    replication = models.ForeignKey(Replication, on_delete=models.CASCADE, related_name="batches")
    batch_seq = models.PositiveIntegerField()
    body_sha256 = models.CharField(max_length=64)
    prev_batch_sha256 = models.CharField(max_length=64)
    item_count = models.PositiveIntegerField()
    message = models.OneToOneField("crossregion.OutboundMessage", on_delete=models.PROTECT, related_name="replication_batch")
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["replication", "batch_seq"]
        constraints = [models.UniqueConstraint(fields=["replication", "batch_seq"], name="crossregion_one_batch_per_seq")]


class ReplicatedSession(models.Model):
    """Partner: a host platform's evaluation session as replicated here (read-only to everyone)."""

    partner = models.ForeignKey("crossregion.Partner", verbose_name=_("主场平台"), on_delete=models.PROTECT, related_name="replicated_sessions")
    host_lot = models.PositiveIntegerField(_("主场标段编号"))
    room = models.CharField(max_length=64)
    title = models.CharField(_("项目名称"), max_length=300, blank=True)
    lot_name = models.CharField(_("标段名称"), max_length=300, blank=True)
    starts_at = models.CharField(max_length=40, blank=True)
    ends_at = models.CharField(max_length=40, blank=True)
    panel = models.JSONField(default=list)
    last_batch_seq = models.PositiveIntegerField(_("最近批次号"), default=0)
    last_batch_sha256 = models.CharField(max_length=64, default="0" * 64)
    last_event_seq = models.PositiveBigIntegerField(_("最近事件号"), default=0)
    report_version = models.PositiveIntegerField(null=True, blank=True)
    report_statement = models.JSONField(null=True, blank=True)
    report_sha256 = models.CharField(_("报告哈希"), max_length=64, blank=True)
    report_pdf = models.BinaryField(null=True, blank=True)
    report_pdf_sha256 = models.CharField(max_length=64, blank=True)
    report_finalised_at = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        verbose_name = _("同步的评标过程")
        verbose_name_plural = _("同步的评标过程")
        constraints = [models.UniqueConstraint(fields=["partner", "host_lot"], name="crossregion_one_replica_per_host_lot")]

    def __str__(self):
        return f"{self.partner.region_code} {self.room}"


class ReplicatedBatch(models.Model):
    """Partner: a batch applied, with its body's hash (the chain) and the message that carried it."""

    session = models.ForeignKey(ReplicatedSession, on_delete=models.CASCADE, related_name="batches")
    batch_seq = models.PositiveIntegerField()
    body_sha256 = models.CharField(max_length=64)
    prev_batch_sha256 = models.CharField(max_length=64)
    item_count = models.PositiveIntegerField()
    message = models.ForeignKey("crossregion.InboundMessage", on_delete=models.PROTECT, related_name="+")
    result = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["session", "batch_seq"]
        constraints = [models.UniqueConstraint(fields=["session", "batch_seq"], name="crossregion_one_replicated_batch_per_seq")]


class ReplicatedEvent(models.Model):
    """Partner: one room event of the host's session, with its number there."""

    session = models.ForeignKey(ReplicatedSession, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    at = models.CharField(max_length=40)
    batch_seq = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["session", "seq"]
        constraints = [models.UniqueConstraint(fields=["session", "seq"], name="crossregion_one_replicated_event_per_seq")]


class ReplicatedAnswer(models.Model):
    """Partner: a member's answer to the replicated report: a signature (verified here against the
    report hash with the member's public key) or a written dissent."""

    session = models.ForeignKey(ReplicatedSession, on_delete=models.CASCADE, related_name="answers")
    report_version = models.PositiveIntegerField()
    seat = models.PositiveIntegerField()
    venue = models.CharField(max_length=16)
    response = models.CharField(max_length=16)  # "signed" or "dissent"
    key_fingerprint = models.CharField(max_length=64, blank=True)
    public_jwk = models.JSONField(null=True, blank=True)
    signature = models.TextField(blank=True)
    text = models.TextField(blank=True)
    at = models.CharField(max_length=40)
    batch_seq = models.PositiveIntegerField()

    class Meta:
        ordering = ["session", "report_version", "seat"]
        constraints = [models.UniqueConstraint(fields=["session", "report_version", "seat"], name="crossregion_one_replicated_answer_per_seat")]
