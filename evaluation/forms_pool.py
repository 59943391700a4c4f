"""Forms of the pool and drawing pages. They only parse; the rules live in evaluation/services/."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from evaluation.specialties import SPECIALTIES
from tendering.forms import LocalDateTimeField

MAX_SLOTS = 4


def specialty_choices():
    return [(code, f"{code} {_(label)}") for code, label in SPECIALTIES.items()]


class PoolFilterForm(forms.Form):
    specialty = forms.ChoiceField(label=_("专业"), required=False)
    active = forms.ChoiceField(label=_("状态"), required=False, choices=[("1", _("在库")), ("0", _("已出库")), ("", _("全部"))])
    q = forms.CharField(label=_("姓名、证书编号或单位"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialty"].choices = [("", _("全部专业")), *specialty_choices()]


class ExpertForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=100)
    certificate_number = forms.CharField(label=_("专家证书编号"), max_length=40)
    specialties = forms.MultipleChoiceField(label=_("专业"), widget=forms.CheckboxSelectMultiple)
    title = forms.CharField(label=_("职称"), max_length=100, required=False)
    years_of_practice = forms.IntegerField(label=_("从业年限"), min_value=0, max_value=70, initial=0)
    employer_name = forms.CharField(label=_("工作单位"), max_length=200, required=False)
    employer_credit_code = forms.CharField(label=_("工作单位统一社会信用代码"), max_length=30, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=40, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialties"].choices = specialty_choices()


class ExpertCreateForm(ExpertForm):
    conflicts = forms.CharField(
        label=_("回避单位统一社会信用代码"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("与其存在利害关系、须回避的单位，多个用分号或换行分隔。"),
    )
    account = forms.ChoiceField(label=_("登录账号"), initial="none", widget=forms.RadioSelect, choices=[
        ("none", _("暂不创建")), ("new", _("新建账号（显示一次性密码）")), ("link", _("关联已有的专家账号")),
    ])
    username = forms.CharField(label=_("用户名"), max_length=150, required=False,
                               help_text=_("新建账号时为新用户名；关联时为已有专家账号的用户名。"))

    def clean(self):
        data = super().clean()
        if data.get("account") in ("new", "link") and not data.get("username"):
            self.add_error("username", _("请填写用户名。"))
        data["conflicts"] = (data.get("conflicts") or "").replace("\n", ";").replace(",", ";")
        return data


class AccountForm(forms.Form):
    account = forms.ChoiceField(label=_("方式"), widget=forms.RadioSelect, initial="new", choices=[
        ("new", _("新建账号（显示一次性密码）")), ("link", _("关联已有的专家账号"))])
    username = forms.CharField(label=_("用户名"), max_length=150)


def expert_user(username: str) -> User | None:
    return User.objects.filter(username=username.strip(), role=Role.EXPERT).first()


class ConflictForm(forms.Form):
    organisation_credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=30)
    organisation_name = forms.CharField(label=_("单位名称"), max_length=200, required=False)
    reason = forms.CharField(label=_("原因"), max_length=300, required=False)


class UnavailabilityForm(forms.Form):
    starts_at = LocalDateTimeField(label=_("开始时间"))
    ends_at = LocalDateTimeField(label=_("结束时间"))
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV 文件"), help_text=_("UTF-8 编码（可带 BOM），第一行为列名。"))


class DrawingRequestForm(forms.Form):
    """The session's time, up to MAX_SLOTS (specialty, count) rows and the tenderer's representatives."""

    session_starts_at = LocalDateTimeField(label=_("评标开始时间"))
    session_ends_at = LocalDateTimeField(label=_("评标结束时间"))
    tenderer_representatives = forms.ModelMultipleChoiceField(
        label=_("招标人代表"), required=False, queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple,
        help_text=_("由招标人指定，不超过评标委员会成员总数的三分之一；不设招标人代表则不选。"),
    )

    # Cross-region: expert seats a partner platform fills from its own pool (its signed assignment).
    away_specialty = forms.ChoiceField(label=_("异地席位专业"), required=False)
    away_count = forms.IntegerField(label=_("异地席位人数"), required=False, min_value=1, max_value=49)
    away_partner = forms.RegexField(label=_("合作平台地区代码"), required=False, regex=r"^\d{6}$", max_length=6,
                                    help_text=_("由合作平台从其专家库抽取，计入评标委员会人数及组成规则；须另向该平台预约席位。"))

    def __init__(self, *args, lot=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["away_specialty"].choices = [("", "—"), *specialty_choices()]
        for n in range(1, MAX_SLOTS + 1):
            self.fields[f"specialty_{n}"] = forms.ChoiceField(label=_("专业 %(n)s") % {"n": n}, required=n == 1,
                                                              choices=[("", "—"), *specialty_choices()])
            self.fields[f"count_{n}"] = forms.IntegerField(label=_("人数 %(n)s") % {"n": n}, required=n == 1, min_value=1, max_value=49)
        if lot is not None:
            self.fields["tenderer_representatives"].queryset = User.objects.filter(
                organisation_id=lot.tender.tenderer_id, role=Role.TENDERER, is_active=True).order_by("username")
            self.fields["tenderer_representatives"].label_from_instance = lambda user: _("%(name)s（%(username)s）") % {"name": user.label, "username": user.username}

    def slot_rows(self):
        return [(self[f"specialty_{n}"], self[f"count_{n}"]) for n in range(1, MAX_SLOTS + 1)]

    def clean(self):
        data = super().clean()
        away = [data.get("away_specialty"), data.get("away_count"), (data.get("away_partner") or "").strip()]
        data["away_seats"] = [{"specialty": away[0], "count": away[1], "partner": away[2]}] if all(away) else []
        if any(away) and not all(away):
            self.add_error("away_partner", _("异地席位的专业、人数和合作平台地区代码须同时填写。"))
        slots = []
        for n in range(1, MAX_SLOTS + 1):
            specialty, count = data.get(f"specialty_{n}"), data.get(f"count_{n}")
            if specialty and count:
                slots.append({"specialty": specialty, "count": count})
            elif specialty or count:
                self.add_error(f"count_{n}" if specialty else f"specialty_{n}", _("专业和人数须同时填写。"))
        data["slots"] = slots
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
