"""Forms of the tendering pages. They only parse and convert (yuan → fen, local time → aware
datetime); every rule about what is allowed lives in tendering/services/."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, OrganisationKind, OrganisationStatus
from tendering.models import AwardMethod, BidScope, ClarificationKind, LotState, Procedure, Project
from tendering.money import MAX_FEN
from tendering.periods import EARLIEST_YEAR, LATEST_YEAR, MAX_ACCELERATOR

LOCAL_DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeField(forms.DateTimeField):
    """A `datetime-local` input, read in the current time zone (Asia/Shanghai)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_DATETIME_FORMAT)

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", [LOCAL_DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"])
        super().__init__(**kwargs)

    def strptime(self, value, format):
        # Checked before the time zone is applied: years near 1 or 9999 overflow on conversion.
        moment = super().strptime(value, format)
        if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            raise forms.ValidationError(
                _("年份须在%(first)s年至%(last)s年之间。"), code="year_out_of_range",
                params={"first": EARLIEST_YEAR, "last": LATEST_YEAR},
            )
        return moment


def yuan_to_fen(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def fen_to_yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


class YuanField(forms.DecimalField):
    """Money typed in yuan (two decimals); `clean` returns integer fen."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 16)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0.01"))
        kwargs.setdefault("max_value", Decimal(MAX_FEN) / 100)  # the platform-wide bound, in yuan
        super().__init__(**kwargs)

    def clean(self, value):
        amount = super().clean(value)
        return None if amount is None else yuan_to_fen(amount)


# Public announcement list -----------------------------------------------------------------------

def _state_choices():
    lot_states = [(value, label) for value, label in LotState.choices if value != LotState.DRAFT]
    return [("", _("全部状态")), *lot_states]


class AnnouncementFilterForm(forms.Form):
    q = forms.CharField(label=_("关键词"), required=False, max_length=100)
    state = forms.ChoiceField(label=_("状态"), required=False, choices=_state_choices)
    date_from = forms.DateField(label=_("发布日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("发布日期至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("开始日期不能晚于结束日期。"))
        return data


# Bidder actions ----------------------------------------------------------------------------------

class QuestionForm(forms.Form):
    text = forms.CharField(label=_("问题"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class ObjectionForm(forms.Form):
    text = forms.CharField(label=_("异议内容"), widget=forms.Textarea(attrs={"rows": 4}), max_length=8000)


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("答复"), widget=forms.Textarea(attrs={"rows": 3}), max_length=8000)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


# Workspace ---------------------------------------------------------------------------------------

def approved(kind: str):
    return Organisation.objects.filter(kind=kind, status=OrganisationStatus.APPROVED)


class ProjectForm(forms.Form):
    """A tenderer's own project; it may mandate a verified agency (委托代理) to run its tenders."""

    code = forms.CharField(label=_("项目编号"), max_length=40)
    name = forms.CharField(label=_("项目名称"), max_length=200)
    location = forms.CharField(label=_("建设地点"), max_length=200, required=False)
    approval_number = forms.CharField(label=_("立项批文"), max_length=100, required=False)
    investment_fen = YuanField(label=_("总投资（元）"), required=False)
    funding_source = forms.CharField(label=_("资金来源"), max_length=100, required=False)
    agency = forms.ModelChoiceField(label=_("委托代理机构"), queryset=Organisation.objects.none(), required=False,
                                    empty_label=_("不委托（自行招标）"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = approved(OrganisationKind.AGENCY)


class ProjectMandateForm(forms.Form):
    """The tenderer changes which agency (if any) one of its projects mandates."""

    project = forms.ModelChoiceField(label=_("工程项目"), queryset=Project.objects.none())
    agency = forms.ModelChoiceField(label=_("委托代理机构"), queryset=Organisation.objects.none(), required=False,
                                    empty_label=_("不委托（自行招标）"))

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        self.fields["agency"].queryset = approved(OrganisationKind.AGENCY)


class PrettyJSONField(forms.JSONField):
    """JSON edited by hand: shown indented, Chinese characters unescaped."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2)


class TenderForm(forms.Form):
    """The fields of `tender_create` / `tender_update` except project and lots."""

    title = forms.CharField(label=_("招标项目名称"), max_length=200)
    procedure = forms.ChoiceField(label=_("招标方式"), choices=Procedure.choices)
    announcement = forms.CharField(label=_("公告正文"), widget=forms.Textarea(attrs={"rows": 6}), required=False)
    bid_scope = forms.ChoiceField(label=_("投标范围"), choices=BidScope.choices)
    bidder_requirements = forms.CharField(label=_("投标人资格要求"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    documents_offer_end = LocalDateTimeField(label=_("招标文件获取截止时间"), required=False)
    bid_deadline = LocalDateTimeField(label=_("投标截止时间"), required=False)
    invitation_reply_deadline = LocalDateTimeField(label=_("邀请回复截止时间"), required=False, help_text=_("仅邀请招标"))
    accelerator = forms.IntegerField(label=_("沙箱加速倍数"), min_value=1, max_value=MAX_ACCELERATOR, initial=1, required=False,
                                     help_text=_("沙箱模式专用：法定期限按此倍数加速"))
    evaluation_scheme = PrettyJSONField(label=_("评标办法（JSON）"), required=False,
                                        widget=forms.Textarea(attrs={"rows": 16, "class": "code"}))

    state_funded = forms.TypedChoiceField(label=_("国有资金占控股或主导地位"), choices=[("1", _("是")), ("0", _("否"))], required=False,
                                          coerce=lambda value: value == "1", empty_value=None,
                                          help_text=_("是：应当确定排名第一的中标候选人为中标人（R55）"))
    award_method = forms.ChoiceField(label=_("定标方法"), choices=[("", "—"), *AwardMethod.choices], required=False)

    def __init__(self, *args, **kwargs):
        initial = kwargs.get("initial") or {}
        if isinstance(initial.get("state_funded"), bool):
            kwargs["initial"] = {**initial, "state_funded": "1" if initial["state_funded"] else "0"}
        super().__init__(*args, **kwargs)
        # No agency field: a tender's agency is the one its project mandates (委托代理).
        if not settings.PLATFORM_SANDBOX:
            del self.fields["accelerator"]

    def clean_evaluation_scheme(self):
        scheme = self.cleaned_data.get("evaluation_scheme")
        if scheme in (None, ""):
            return None
        if not isinstance(scheme, dict):
            raise forms.ValidationError(_("评标办法必须是 JSON 对象。"))
        return scheme

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        if data.get("evaluation_scheme") is None:
            data.pop("evaluation_scheme", None)  # the service then keeps (or sets) the default scheme
        if "accelerator" in data:
            data["accelerator"] = data["accelerator"] or 1
        for name in ("state_funded", "award_method"):  # not given: the service keeps (or sets) its default
            if data.get(name) in (None, ""):
                data.pop(name, None)
        return data


class ProjectChoiceForm(forms.Form):
    project = forms.ModelChoiceField(label=_("工程项目"), queryset=Project.objects.none())

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects


class LotForm(forms.Form):
    name = forms.CharField(label=_("标段名称"), max_length=200)
    description = forms.CharField(label=_("标段内容"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    maximum_price_fen = YuanField(label=_("最高投标限价（元）"))


class BaseLotFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if not self.lots():
            raise forms.ValidationError(_("至少需要一个标段。"))

    def lots(self) -> list[dict]:
        return [form.cleaned_data for form in self.forms if form.has_changed() and not form.cleaned_data.get("DELETE")]


LotFormSet = forms.formset_factory(LotForm, formset=BaseLotFormSet, extra=1, max_num=50, validate_max=True)


class DocumentUploadForm(forms.Form):
    title = forms.CharField(label=_("文件名称"), max_length=200, help_text=_("与已有文件同名即上传新版本"))
    lot = forms.ModelChoiceField(label=_("所属标段"), queryset=None, required=False, empty_label=_("全部标段"))
    clarification = forms.ModelChoiceField(label=_("所属澄清/修改"), queryset=None, required=False, empty_label=_("无"))
    uploaded_file = forms.FileField(label=_("文件"))

    def __init__(self, *args, tender, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lot"].queryset = tender.lots.all()
        self.fields["clarification"].queryset = tender.clarifications.all()
        if not tender.clarifications.exists():
            del self.fields["clarification"]


class ClarificationForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=ClarificationKind.choices)
    title = forms.CharField(label=_("标题"), max_length=200)
    body = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 6}))
    affects_bids = forms.BooleanField(label=_("影响投标文件编制"), required=False, initial=True,
                                      help_text=_("影响投标文件编制且距投标截止不足15日的，截止时间顺延至发布后15日（L23、R21）"))
    new_deadline = LocalDateTimeField(label=_("新的投标截止时间"), required=False, help_text=_("留空则由平台按法定期限计算"))


class CandidateFilterForm(forms.Form):
    qualification = forms.CharField(label=_("资质"), required=False, max_length=100)
    region_code = forms.CharField(label=_("行政区划代码"), required=False, max_length=6)
    name_contains = forms.CharField(label=_("单位名称包含"), required=False, max_length=100)


MIN_INVITEES = 3


class InviteesForm(forms.Form):
    organisations = forms.ModelMultipleChoiceField(label=_("受邀投标人"), queryset=Organisation.objects.none(),
                                                   widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisations"].queryset = candidates

    def clean_organisations(self):
        chosen = self.cleaned_data["organisations"]
        if len(chosen) < MIN_INVITEES:
            raise forms.ValidationError(_("邀请招标应当向三个以上投标人发出邀请。"))
        return chosen
