from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Unit


class UnitChoiceForm(forms.Form):
    """Which unit's counter (and calendar) a public page speaks of."""

    unit = forms.ModelChoiceField(
        label=_("Receiving unit"),
        queryset=Unit.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=None,
    )

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units if units is not None else Unit.objects.order_by("path")


class CalendarForm(UnitChoiceForm):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].label = _("Unit")
        self.fields["unit"].required = False
        self.fields["unit"].empty_label = _("Nationwide")

    def clean_year(self) -> int:
        return self.cleaned_data.get("year") or timezone.localdate().year
