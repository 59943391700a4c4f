"""The drawing (抽取) of a lot's panel: the request, the seed commitment, the result in rounds, and
the members with their replacements (evaluation/drawing.py is the algorithm; docs/expert-drawing.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition


class DrawingState(models.TextChoices):
    COMMITTED = "committed", _("已承诺种子")
    DRAWN = "drawn", _("已抽取")
    PUBLISHED = "published", _("结果已公布")
    REFUSED = "refused", _("无法抽取")


class Drawing(models.Model):
    """One drawing for one lot's evaluation. The seed's SHA-256 is recorded in the audit trail before
    the draw; the seed itself is kept secret until the result is published, then revealed, so anyone
    can re-run the draw (`manage.py drawing_verify <id>`)."""

    lot = models.ForeignKey("tendering.Lot", verbose_name=_("标段"), on_delete=models.PROTECT, related_name="drawings")
    state = FSMField(_("状态"), max_length=16, choices=DrawingState.choices, default=DrawingState.COMMITTED)
    session_starts_at = models.DateTimeField(_("评标开始时间"))
    session_ends_at = models.DateTimeField(_("评标结束时间"))
    # [{"specialty": "A08", "count": 3}, ...] in the order they are drawn.
    slots = models.JSONField(_("抽取专业及人数"))
    tenderer_representatives = models.PositiveIntegerField(_("招标人代表人数"), default=0)
    # Cross-region: expert seats filled by a partner platform's drawing, [{"specialty": "A08",
    # "count": 2, "partner": "442000"}]; they take the seats after the home experts' (venue "away").
    away_seats = models.JSONField(_("异地专家席位"), default=list, blank=True)
    seed_commitment = models.CharField(_("种子承诺（SHA-256）"), max_length=64)
    seed_hex = models.CharField(max_length=64, editable=False)  # secret until published
    seed_revealed = models.BooleanField(_("种子已公开"), default=False)
    # The inputs and outputs of the pure algorithm, stored verbatim so verification needs nothing else.
    request_json = models.JSONField(_("抽取请求"), default=dict)
    eligible = models.JSONField(_("合格专家（按专业，匿名编号排序）"), default=dict)
    excluded = models.JSONField(_("回避及排除"), default=list)
    rounds = models.JSONField(_("抽取轮次"), default=list)
    refused_reason = models.TextField(_("无法抽取原因"), blank=True)
    requested_by = models.ForeignKey("accounts.User", verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"))
    drawn_at = models.DateTimeField(_("抽取时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("结果公布时间"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("专家抽取")
        verbose_name_plural = _("专家抽取")

    def __str__(self):
        return f"{self.lot} #{self.pk}"

    def get_state_label(self, value):
        return DrawingState(value).label

    @property
    def panel_size(self) -> int:
        return sum(int(slot["count"]) for slot in self.slots) + self.away_count + self.tenderer_representatives

    @property
    def away_count(self) -> int:
        return sum(int(seat["count"]) for seat in self.away_seats or [])

    @transition(field=state, source=DrawingState.COMMITTED, target=DrawingState.DRAWN)
    def draw(self):
        pass

    @transition(field=state, source=DrawingState.COMMITTED, target=DrawingState.REFUSED)
    def refuse(self):
        pass

    @transition(field=state, source=DrawingState.DRAWN, target=DrawingState.PUBLISHED)
    def publish(self):
        pass


class MemberKind(models.TextChoices):
    EXPERT = "expert", _("评标专家")
    REPRESENTATIVE = "representative", _("招标人代表")


class MemberStatus(models.TextChoices):
    DRAWN = "drawn", _("已抽中")
    CONFIRMED = "confirmed", _("已确认参加")
    DECLINED = "declined", _("拒绝参加")
    RECUSED = "recused", _("申请回避")


class PanelMember(models.Model):
    """A seat on the panel (评标委员会): a drawn expert, or a tenderer representative named by the
    tenderer. A decline or a recusal keeps the row (status) and adds a replacement row."""

    drawing = models.ForeignKey(Drawing, on_delete=models.CASCADE, related_name="members")
    kind = models.CharField(_("类别"), max_length=16, choices=MemberKind.choices, default=MemberKind.EXPERT)
    expert = models.ForeignKey("evaluation.Expert", null=True, blank=True, on_delete=models.PROTECT, related_name="seats")
    user = models.ForeignKey("accounts.User", verbose_name=_("登录账号"), null=True, blank=True, on_delete=models.PROTECT, related_name="panel_seats")
    specialty = models.CharField(_("专业"), max_length=8, blank=True)
    seat = models.PositiveIntegerField(_("席位号"))  # "专家1"…, stable across replacements
    round = models.PositiveIntegerField(_("抽取轮次"), default=0)
    status = models.CharField(_("状态"), max_length=16, choices=MemberStatus.choices, default=MemberStatus.DRAWN)
    status_reason = models.TextField(_("说明"), blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces")
    # The evaluation room (check-in with the integrity pledge and the recusal declaration).
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    pledge_accepted_at = models.DateTimeField(_("承诺时间"), null=True, blank=True)
    # Where the member sits (cross-region: "host" or "away"; away members come from the partner).
    venue = models.CharField(_("评标场地"), max_length=16, default="host")
    # An away member (no Expert here): the partner's region, the expert's pseudonymous id there
    # (Expert.public_id at the partner), the signing public key (JWK) the partner's signed
    # assignment names, and which assignment (booking uuid, version) seated it.
    remote_region = models.CharField(_("异地平台地区代码"), max_length=6, blank=True)
    remote_expert_id = models.CharField(_("异地专家匿名编号"), max_length=128, blank=True, db_index=True)
    remote_public_jwk = models.JSONField(_("异地专家签名公钥（JWK）"), default=dict, blank=True)
    remote_assignment = models.CharField(_("异地专家指派"), max_length=80, blank=True)

    class Meta:
        ordering = ["drawing", "seat", "round"]
        verbose_name = _("评标委员会成员")
        verbose_name_plural = _("评标委员会成员")

    def __str__(self):
        return f"{self.get_kind_display()} {self.seat}"

    @property
    def serving(self) -> bool:
        return self.status in (MemberStatus.DRAWN, MemberStatus.CONFIRMED)
