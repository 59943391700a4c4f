"""Forms of the venue booking pages (crossregion/views_booking.py)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crossregion.models import Partner
from evaluation.forms_pool import specialty_choices
from tendering.forms import LocalDateTimeField

MAX_SEAT_ROWS = 3


class TermsForm(forms.Form):
    """A session slot and up to MAX_SEAT_ROWS (specialty, count) rows."""

    starts_at = LocalDateTimeField(label=_("评标开始时间"))
    ends_at = LocalDateTimeField(label=_("评标结束时间"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n in range(1, MAX_SEAT_ROWS + 1):
            self.fields[f"specialty_{n}"] = forms.ChoiceField(label=_("专业 %(n)s") % {"n": n}, required=n == 1,
                                                              choices=[("", "—"), *specialty_choices()])
            self.fields[f"count_{n}"] = forms.IntegerField(label=_("席位数 %(n)s") % {"n": n}, required=n == 1, min_value=1, max_value=49)

    def seat_rows(self):
        return [(self[f"specialty_{n}"], self[f"count_{n}"]) for n in range(1, MAX_SEAT_ROWS + 1)]

    def clean(self):
        data = super().clean()
        seats = []
        for n in range(1, MAX_SEAT_ROWS + 1):
            specialty, count = data.get(f"specialty_{n}"), data.get(f"count_{n}")
            if specialty and count:
                seats.append({"specialty": specialty, "count": count})
            elif specialty or count:
                self.add_error(f"count_{n}" if specialty else f"specialty_{n}", _("专业和人数须同时填写。"))
        data["seats"] = seats
        return data


class BookingRequestForm(TermsForm):
    partner = forms.ModelChoiceField(label=_("合作平台"), queryset=Partner.objects.all(), empty_label=None)
    home_experts = forms.IntegerField(label=_("本地专家人数"), min_value=0, max_value=49, initial=3,
                                      help_text=_("评标委员会中由本平台抽取的专家人数；与异地席位、招标人代表合计须为不少于5人的单数，专家不少于三分之二。"))
    tenderer_representatives = forms.IntegerField(label=_("招标人代表人数"), min_value=0, max_value=20, initial=0)

    field_order = ["partner", "starts_at", "ends_at", "home_experts", "tenderer_representatives"]


class ProposeForm(TermsForm):
    note = forms.CharField(label=_("说明"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
