from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    name = "procedures"
    verbose_name = _("Procedure catalogue and working calendar")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .catalogue_cache import connect_signals

        connect_signals()
