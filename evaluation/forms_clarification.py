"""Forms of the panel's clarification page (evaluation/views_clarification.py)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from evaluation.services.clarification import MAX_QUESTION_CHARS, MAX_REASON_CHARS

REASON_CHOICES = [("general", _("一般澄清")), ("abnormally_low", _("报价明显偏低，要求书面说明（P21）"))]


class _BidChoice(forms.ModelChoiceField):
    def label_from_instance(self, bid):
        return f"{bid.bidder.name} (#{bid.pk})"


class AskForm(forms.Form):
    bid = _BidChoice(label=_("投标人"), queryset=None)
    reason = forms.ChoiceField(label=_("类型"), choices=REASON_CHOICES, initial="general")
    question = forms.CharField(label=_("澄清问题"), widget=forms.Textarea(attrs={"rows": 5}), max_length=MAX_QUESTION_CHARS)
    deadline = forms.DateTimeField(label=_("答复截止时间（北京时间）"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
                                   widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))

    def __init__(self, *args, bids, **kwargs):
        super().__init__(*args, **kwargs)
        from bidding.models import Bid

        self.fields["bid"].queryset = Bid.objects.filter(pk__in=[b.pk for b in bids]).select_related("bidder")


class RejectForm(forms.Form):
    bid = _BidChoice(label=_("投标人"), queryset=None)
    reason = forms.CharField(label=_("否决理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=MAX_REASON_CHARS)

    def __init__(self, *args, bids, **kwargs):
        super().__init__(*args, **kwargs)
        from bidding.models import Bid

        self.fields["bid"].queryset = Bid.objects.filter(pk__in=[b.pk for b in bids]).select_related("bidder")
