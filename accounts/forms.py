"""Forms of the accounts pages. They only parse; the services decide what is valid."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import VERIFIED_FIELDS, OrganisationKind
from accounts.services import SELF_REGISTRATION_KINDS


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("单位名称"), max_length=200, help_text=_("与营业执照或登记证书一致"))
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=30, help_text=_("18位，字母不区分大小写"))
    legal_representative = forms.CharField(label=_("法定代表人"), max_length=100, required=False)
    address = forms.CharField(label=_("地址"), max_length=300, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=40, required=False)
    qualifications = forms.CharField(label=_("资质"), max_length=500, required=False, help_text=_("以逗号分隔，例如：建筑工程施工总承包一级"))

    @classmethod
    def initial_from(cls, organisation) -> dict:
        return {field: getattr(organisation, field) for field in VERIFIED_FIELDS}

    def organisation_data(self) -> dict:
        return {field: self.cleaned_data[field] for field in VERIFIED_FIELDS}


class RegistrationForm(OrganisationForm):
    kind = forms.ChoiceField(label=_("单位类型"), choices=[(k.value, k.label) for k in OrganisationKind if k in SELF_REGISTRATION_KINDS])
    username = forms.CharField(label=_("用户名"), max_length=150, help_text=_("登录用；您将成为本单位的管理员"))
    display_name = forms.CharField(label=_("姓名"), max_length=100, required=False)
    email = forms.EmailField(label=_("电子邮箱"), required=False)
    password1 = forms.CharField(label=_("密码"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("确认密码"), widget=forms.PasswordInput, strip=False)

    field_order = ["kind", *VERIFIED_FIELDS, "username", "display_name", "email", "password1", "password2"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        return cleaned


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    display_name = forms.CharField(label=_("姓名"), max_length=100, required=False)
    email = forms.EmailField(label=_("电子邮箱"), required=False)
    password1 = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput, strip=False)
    is_org_admin = forms.BooleanField(label=_("单位管理员"), required=False)


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("令牌名称"), max_length=100, required=False, help_text=_("例如：投标工具、办公室电脑"))
    days = forms.IntegerField(label=_("有效天数"), min_value=1, max_value=365, initial=90)
