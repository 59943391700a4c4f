"""Forms of the cross-region pages. They only parse; the rules live in crossregion/services/."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCOPE_CHOICES = [
    ("booking", _("场地预约")),
    ("drawing", _("专家抽取")),
    ("federation", _("专家联合登录")),
    ("replication", _("评标记录同步")),
]
DEFAULT_TEXT = _(
    "双方依据《中华人民共和国招标投标法》及其实施条例，就远程异地评标开展合作：主场平台预约副场评标场地，"
    "副场平台从本地专家库抽取评标专家，副场专家经本地平台认证后进入主场评标室，评标全过程记录同步至双方平台。"
)


class PartnerAddForm(forms.Form):
    base_url = forms.URLField(label=_("对方平台地址"), max_length=200, assume_scheme="https",
                              help_text=_("例如 http://127.0.0.1:8001"))


class PartnerConfirmForm(forms.Form):
    base_url = forms.URLField(widget=forms.HiddenInput, max_length=200, assume_scheme="https")
    key_id = forms.RegexField(widget=forms.HiddenInput, regex=r"^[0-9a-f]{16}$")


class AgreementForm(forms.Form):
    scope = forms.MultipleChoiceField(label=_("合作范围"), choices=SCOPE_CHOICES, widget=forms.CheckboxSelectMultiple,
                                      initial=[code for code, _label in SCOPE_CHOICES])
    valid_from = forms.DateField(label=_("生效日期"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=_("失效日期（当日零时起失效）"), widget=forms.DateInput(attrs={"type": "date"}))
    text = forms.CharField(label=_("协议正文"), widget=forms.Textarea(attrs={"rows": 8}), max_length=20000, initial=DEFAULT_TEXT)

    def clean(self):
        data = super().clean()
        if data.get("valid_from") and data.get("valid_until") and data["valid_from"] >= data["valid_until"]:
            raise forms.ValidationError(_("失效日期须晚于生效日期。"))
        return data

    def moments(self) -> tuple[datetime, datetime]:
        """Midnight (Beijing time) of both dates."""
        return tuple(datetime.combine(self.cleaned_data[name], time(0), tzinfo=SHANGHAI) for name in ("valid_from", "valid_until"))


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("撤销原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
