"""API v1 shapes for tenders: what comes in (validated, then handed to a service) and what goes
out. Money is integer fen; times are ISO 8601 with the Asia/Shanghai offset.

Tender output never carries bidder registrations or document downloads: who obtained the
documents is confidential until the opening (L22, E21). They have their own endpoint, which shows
a bidder its own and insiders all of them only after the opening (`RegistrationsSerializer`)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Organisation, OrganisationKind
from tendering import selectors
from tendering.money import MAX_FEN
from tendering.periods import MAX_ACCELERATOR
from tendering.models import (
    BidScope,
    Clarification,
    ClarificationKind,
    Lot,
    LotState,
    Procedure,
    Project,
    Tender,
    TenderDocument,
    TenderState,
)


class InlineChoiceField(serializers.ChoiceField):
    """A choice field documented as an enum of its own, next to the field. drf-spectacular's enum
    hook would otherwise name one shared component per field name ("state", "kind") and warn
    when tenders, lots and organisations use that name for different choices; wrapped in allOf,
    the enum stays where it is documented."""


class InlineChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = InlineChoiceField

    def map_serializer_field(self, auto_schema, direction):
        values = list(self.target.choices)
        if self.target.allow_blank:
            values.append("")
        labels = "\n".join(f"* `{value}` - {label}" for value, label in self.target.choices.items())
        return {"allOf": [{"type": "string", "enum": values}], "description": labels}


class ErrorSerializer(serializers.Serializer):
    """Every refused request: a message fit to show the user and a stable machine code."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


# Output ----------------------------------------------------------------------------------------


class OrganisationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "credit_code"]


class LotSerializer(serializers.ModelSerializer):
    state = InlineChoiceField(choices=LotState.choices, read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = Lot
        fields = ["id", "number", "name", "description", "maximum_price_fen", "state", "state_display"]


class DocumentSerializer(serializers.ModelSerializer):
    lot = serializers.SerializerMethodField()
    clarification = serializers.SerializerMethodField()

    class Meta:
        model = TenderDocument
        fields = [
            "id", "title", "version", "filename", "size", "sha256", "signature", "signing_key_id",
            "lot", "clarification", "uploaded_at",
        ]

    @extend_schema_field(serializers.IntegerField(allow_null=True, help_text="lot number"))
    def get_lot(self, document) -> int | None:
        return document.lot.number if document.lot_id else None

    @extend_schema_field(serializers.IntegerField(allow_null=True, help_text="clarification number"))
    def get_clarification(self, document) -> int | None:
        return document.clarification.number if document.clarification_id else None


class ClarificationSerializer(serializers.ModelSerializer):
    kind = InlineChoiceField(choices=ClarificationKind.choices, read_only=True)

    class Meta:
        model = Clarification
        fields = ["id", "number", "kind", "title", "body", "affects_bids", "previous_deadline", "new_deadline", "issued_at"]


class ProjectSerializer(serializers.ModelSerializer):
    tenderer = OrganisationRefSerializer(read_only=True)
    agency = OrganisationRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Project
        fields = ["id", "code", "name", "tenderer", "agency", "location", "approval_number", "investment_fen", "funding_source"]


class ProjectRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "code", "name", "location"]


class TenderSummarySerializer(serializers.ModelSerializer):
    project = ProjectRefSerializer(read_only=True)
    tenderer = OrganisationRefSerializer(read_only=True)
    agency = OrganisationRefSerializer(read_only=True, allow_null=True)
    state = InlineChoiceField(choices=TenderState.choices, read_only=True)
    procedure = InlineChoiceField(choices=Procedure.choices, read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    lots = LotSerializer(many=True, read_only=True)

    class Meta:
        model = Tender
        fields = [
            "id", "code", "title", "procedure", "state", "state_display", "project", "tenderer", "agency",
            "documents_offer_end", "bid_deadline", "published_at", "accelerator", "lots",
        ]


class TenderDetailSerializer(TenderSummarySerializer):
    documents = serializers.SerializerMethodField()
    clarifications = serializers.SerializerMethodField()

    class Meta(TenderSummarySerializer.Meta):
        fields = [
            *TenderSummarySerializer.Meta.fields,
            "announcement", "bid_scope", "bidder_requirements", "invitation_reply_deadline",
            "evaluation_scheme", "cancelled_reason", "documents", "clarifications",
        ]

    @extend_schema_field(DocumentSerializer(many=True))
    def get_documents(self, tender):
        documents = selectors.current_documents(tender).select_related("lot", "clarification")
        return DocumentSerializer(documents, many=True).data

    @extend_schema_field(ClarificationSerializer(many=True))
    def get_clarifications(self, tender):
        return ClarificationSerializer(selectors.clarifications_for(tender), many=True).data


class RegistrationSerializer(serializers.Serializer):
    organisation = OrganisationRefSerializer(read_only=True)
    registered_at = serializers.DateTimeField(read_only=True)


class DownloadSerializer(serializers.Serializer):
    document = serializers.IntegerField(source="document_id", read_only=True)
    title = serializers.CharField(source="document.title", read_only=True)
    version = serializers.IntegerField(source="document.version", read_only=True)
    organisation = OrganisationRefSerializer(read_only=True, allow_null=True)
    downloaded_at = serializers.DateTimeField(read_only=True)


class RegistrationsSerializer(serializers.Serializer):
    """Who obtained the tender documents and downloaded which file, as far as the caller may
    know: a bidder its own organisation's rows; insiders every row, after the opening only."""

    registrations = RegistrationSerializer(many=True, read_only=True)
    downloads = DownloadSerializer(many=True, read_only=True)


# Input -----------------------------------------------------------------------------------------


class AnnouncementFilterSerializer(serializers.Serializer):
    """The same filters as the public announcement page."""

    q = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text=_("编号、名称、项目或招标人"))
    state = InlineChoiceField(
        required=False, allow_blank=True, choices=[c for c in LotState.choices if c[0] != LotState.DRAFT]
    )
    date_from = serializers.DateField(required=False, help_text=_("发布日期从"))
    date_to = serializers.DateField(required=False, help_text=_("发布日期至"))

    def validate(self, data):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise serializers.ValidationError({"date_to": _("结束日期不能早于开始日期。")})
        return data


class LotInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    maximum_price_fen = serializers.IntegerField(min_value=1, max_value=MAX_FEN, help_text=_("最高投标限价（分）"))


class ProjectInputSerializer(serializers.Serializer):
    tenderer = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.TENDERER),
        required=False,
        help_text=_("招标人；只能是本单位，可省略"),
    )
    agency = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.AGENCY), required=False, allow_null=True, default=None,
        help_text=_("委托代理机构（已核验的招标代理）；只有它可以为本项目新建招标项目"),
    )
    code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    location = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    approval_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    investment_fen = serializers.IntegerField(min_value=0, max_value=MAX_FEN, required=False, allow_null=True, default=None)
    funding_source = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ProjectMandateSerializer(serializers.Serializer):
    agency = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.AGENCY), allow_null=True,
        help_text=_("委托代理机构（已核验的招标代理）；null 表示不委托"),
    )


class TenderFieldsSerializer(serializers.Serializer):
    """The fields a tender's owner sets at creation and may change while it is a draft."""

    title = serializers.CharField(max_length=200)
    procedure = serializers.ChoiceField(choices=Procedure.choices, required=False)
    agency = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.AGENCY), required=False, allow_null=True,
        help_text=_("可省略；如填写，必须是工程项目委托的代理机构"),
    )
    announcement = serializers.CharField(required=False, allow_blank=True)
    bid_scope = serializers.ChoiceField(choices=BidScope.choices, required=False)
    bidder_requirements = serializers.CharField(required=False, allow_blank=True)
    bid_deadline = serializers.DateTimeField(required=False, allow_null=True)
    documents_offer_end = serializers.DateTimeField(required=False, allow_null=True)
    invitation_reply_deadline = serializers.DateTimeField(required=False, allow_null=True)
    accelerator = serializers.IntegerField(min_value=1, max_value=MAX_ACCELERATOR, required=False, help_text=_("沙箱加速倍数（仅沙箱平台）"))
    evaluation_scheme = serializers.JSONField(required=False, allow_null=True)

    def validate_evaluation_scheme(self, value):
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError(_("评标办法必须是 JSON 对象。"))
        return value


class TenderCreateSerializer(TenderFieldsSerializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    lots = LotInputSerializer(many=True, allow_empty=False)


class TenderUpdateSerializer(TenderFieldsSerializer):
    """Partial: only the fields sent are changed."""


class ClarificationInputSerializer(serializers.Serializer):
    kind = InlineChoiceField(choices=ClarificationKind.choices)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField()
    affects_bids = serializers.BooleanField(required=False, default=True)
    new_deadline = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
