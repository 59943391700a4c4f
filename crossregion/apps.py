from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrossregionConfig(AppConfig):
    name = "crossregion"
    verbose_name = _("跨区域评标")

    def ready(self):
        from crossregion import handlers, rules  # noqa: F401  (registers the permission rules and the inbox handlers)
