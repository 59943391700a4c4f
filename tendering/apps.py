from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenderingConfig(AppConfig):
    name = "tendering"
    verbose_name = _("招标")

    def ready(self):
        from tendering import rules, rules_award  # noqa: F401  (registers the permission rules)
