from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = _("评标")

    def ready(self):
        from evaluation import rules  # noqa: F401  (registers the permission rules)
