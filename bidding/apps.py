from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BiddingConfig(AppConfig):
    name = "bidding"
    verbose_name = _("投标")

    def ready(self):
        from bidding import rules  # noqa: F401  (registers the permission rules)
