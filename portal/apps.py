from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Units and accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.urls import register_converter

        from . import checks, csrf, security  # noqa: F401  (they register their system checks)
        from .converters import CodeConverter

        csrf.install()
        register_converter(CodeConverter, "code")
