"""Forms of the publicity and award pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tendering.forms import LocalDateTimeField, YuanField


class PublicityDraftForm(forms.Form):
    days = forms.IntegerField(label=_("公示期（日）"), min_value=3, max_value=30, initial=3, help_text=_("不少于3日（R54）"))
    body = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=20000)


class NoticeBodyForm(forms.Form):
    body = forms.CharField(label=_("正文"), widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=20000)


class ResultDraftForm(forms.Form):
    body = forms.CharField(label=_("中标结果公告说明"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=20000)
    award_body = forms.CharField(label=_("中标通知书附言"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=20000)
    non_award_body = forms.CharField(label=_("中标结果通知书附言"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=20000)


class DecisionForm(forms.Form):
    """Votes of the award committee, one per line: "name, candidate rank"."""

    votes = forms.CharField(label=_("投票记录"), widget=forms.Textarea(attrs={"rows": 5}), required=False,
                            help_text=_("每行一票：投票人姓名, 所投中标候选人排序（如：张三, 1）。确定第一中标候选人时留空。"))
    finalists = forms.IntegerField(label=_("进入抽签的候选人数"), min_value=1, max_value=3, initial=2, required=False,
                                   help_text=_("仅票决抽签"))
    reason = forms.CharField(label=_("定标说明"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000)

    def clean_votes(self):
        votes = []
        for number, line in enumerate((self.cleaned_data.get("votes") or "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.replace("，", ",").split(",")]
            if len(parts) != 2 or not parts[1].isdigit():
                raise forms.ValidationError(_("第%(line)s行格式错误，应为“投票人姓名, 候选人排序”。"), params={"line": number})
            votes.append({"voter": parts[0], "candidate_rank": int(parts[1])})
        return votes


class ContractForm(forms.Form):
    signed_at = LocalDateTimeField(label=_("合同签订时间"))
    amount_fen = YuanField(label=_("合同金额（元）"))


class ObjectionTextForm(forms.Form):
    text = forms.CharField(label=_("异议内容"), widget=forms.Textarea(attrs={"rows": 4}), max_length=20000)


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("答复"), widget=forms.Textarea(attrs={"rows": 3}), max_length=20000)
