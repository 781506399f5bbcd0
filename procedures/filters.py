"""The catalogue's filters, shared by the public page and the API (one definition, one
behaviour)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import OnlineLevel, ProcedureLevel
from .models import Field


class CatalogueFilterForm(forms.Form):
    search = forms.CharField(
        label=_("Search by name or code"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("e.g. dang ky khai sinh, 1.001193")}
        ),
    )
    field = forms.ChoiceField(label=_("Field"), required=False)
    level = forms.ChoiceField(
        label=_("Level"), required=False, choices=[("", _("All levels")), *ProcedureLevel.choices]
    )
    online_level = forms.ChoiceField(
        label=_("Online service"),
        required=False,
        choices=[("", _("All")), *OnlineLevel.choices],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [
            ("", _("All fields")),
            *Field.objects.order_by("sort_order", "name").values_list("code", "name"),
        ]

    def filters(self) -> dict[str, str]:
        """The cleaned filters as keyword arguments of ``procedure_catalogue``."""
        return {name: value for name, value in self.cleaned_data.items() if value}
