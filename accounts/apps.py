from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("账户与单位")

    def ready(self):
        from accounts import rules, signin  # noqa: F401  (rules registers the permission rules)

        signin.connect()
