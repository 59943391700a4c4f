from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpeningConfig(AppConfig):
    name = "opening"
    verbose_name = _("开标")

    def ready(self):
        from opening import rules  # noqa: F401  (registers the permission rules)
