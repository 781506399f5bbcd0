"""The portal's form renderer writes inputs, selects and text areas in Python: the markup must
be, byte for byte, what Django's own widget templates render — for every kind of value."""

import inspect
from datetime import date, datetime

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from dossiers import citizen_forms, filters, lookup
from dossiers import forms as dossier_forms
from portal import account_forms
from portal import forms as portal_forms
from portal.renderers import PortalFormRenderer
from procedures import filters as procedure_filters
from procedures import forms as procedure_forms
from reports import dashboard
from reports import forms as report_forms

CHOICES = [
    ("", "— Tất cả —"),
    ("a&b", 'Thủ tục "đặc biệt" <b>'),
    (1000, 1234567),  # a number shown as a template shows it: localized
    (
        "Nhóm <1>",
        [("x", gettext_lazy("Received")), ("y", mark_safe("<i>an toàn</i>"))],
    ),
]


class EveryWidget(forms.Form):
    text = forms.CharField(
        max_length=20,
        help_text="gợi ý",
        widget=forms.TextInput(
            attrs={
                "placeholder": 'Tên "người" <nộp> & hồ sơ',
                "data-on": True,
                "data-off": False,
                "data-n": 5000,
                "autocomplete": "name",
            }
        ),
    )
    optional = forms.CharField(required=False, disabled=True)
    number = forms.IntegerField(min_value=1, max_value=100000)
    decimal = forms.DecimalField(required=False, decimal_places=2)
    email = forms.EmailField(required=False)
    url = forms.URLField(required=False, assume_scheme="https")
    password = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    moment = forms.DateTimeField(required=False)
    when = forms.TimeField(required=False)
    search = forms.CharField(required=False, widget=forms.SearchInput)
    phone = forms.CharField(required=False, widget=forms.TelInput)
    colour = forms.CharField(required=False, widget=forms.ColorInput)
    flag = forms.BooleanField(required=False)
    upload = forms.FileField(required=False)
    choice = forms.ChoiceField(choices=CHOICES, required=False)
    many = forms.MultipleChoiceField(choices=CHOICES, required=False)
    typed = forms.TypedChoiceField(choices=[(1, "một"), (2, "hai")], coerce=int)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    radio = forms.ChoiceField(choices=CHOICES[:3], widget=forms.RadioSelect, required=False)
    boxes = forms.MultipleChoiceField(
        choices=CHOICES[:3], widget=forms.CheckboxSelectMultiple, required=False
    )


BOUND = [
    None,
    {},
    {
        "text": 'O\'Brien "<script>" & co',
        "optional": "x",
        "number": "1500",
        "decimal": "1234.5",
        "email": "not an address",
        "password": "mật<khẩu>",
        "hidden": "&amp;",
        "day": "2026-11-27",
        "moment": "27/11/2026 08:30",
        "flag": "on",
        "choice": "a&b",
        "many": ["x", "1000"],
        "typed": "2",
        "note": 'dòng 1\n<dòng 2> & "3"',
        "radio": "a&b",
        "boxes": ["", "a&b"],
    },
]
INITIAL = {
    "text": mark_safe("<b>an toàn</b>"),
    "number": 123456,
    "day": date(2026, 11, 27),
    "moment": datetime(2026, 11, 27, 8, 30),
    "flag": True,
    "choice": 1000,
    "note": "   ",
}


def _pair(form: forms.Form) -> tuple[str, str]:
    form.renderer = DjangoTemplates()
    theirs = str(form)
    form.renderer = PortalFormRenderer()
    return theirs, str(form)


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("data", BOUND, ids=["unbound", "empty", "filled"])
def test_every_widget_renders_as_djangos_templates_do(language, data):
    with translation.override(language):
        form = EveryWidget(data, initial=INITIAL if data is None else None)
        if data is not None:
            form.is_valid()
        theirs, ours = _pair(form)
    assert ours == theirs
    assert "<input" in ours and "<select" in ours and "<textarea" in ours


def test_numbers_in_labels_are_localized_and_markup_escaped():
    with translation.override("vi"):
        html = PortalFormRenderer().render(
            "django/forms/widgets/select.html",
            {"widget": forms.Select(choices=CHOICES).get_context("c", "", {})["widget"]},
        )
    assert ">1.234.567</option>" in html
    assert "Thủ tục &quot;đặc biệt&quot; &lt;b&gt;" in html
    assert '<optgroup label="Nhóm &lt;1&gt;">' in html
    assert "<i>an toàn</i>" in html  # marked safe by its author


def _project_forms() -> list[type[forms.Form]]:
    modules = [
        account_forms, portal_forms, citizen_forms, filters, lookup, dossier_forms,
        procedure_filters, procedure_forms, dashboard, report_forms,
    ]  # fmt: skip
    found = []
    for module in modules:
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, forms.BaseForm) and value.__module__ == module.__name__:
                found.append(value)
    return found


@pytest.mark.django_db
def test_the_portals_own_forms_render_as_djangos_templates_do():
    rendered = 0
    for form_class in _project_forms():
        try:
            form = form_class()
        except TypeError:
            continue  # needs its context (a user, a dossier): covered by the widgets above
        with translation.override("vi"):
            theirs, ours = _pair(form)
            assert ours == theirs, form_class.__name__
            form = form_class({})
            form.is_valid()
            theirs, ours = _pair(form)
            assert ours == theirs, form_class.__name__
        rendered += 1
    assert rendered >= 8


def test_a_widget_template_an_app_overrides_is_rendered_by_django(settings, tmp_path):
    widgets = tmp_path / "django" / "forms" / "widgets"
    widgets.mkdir(parents=True)
    (widgets / "text.html").write_text('<input class="app-own" name="{{ widget.name }}">')
    renderer = PortalFormRenderer()
    renderer.engine.engine.dirs.insert(0, str(tmp_path))  # found before Django's own
    renderer.engine.engine.template_loaders[0].reset()
    html = renderer.render(
        "django/forms/widgets/text.html",
        {"widget": forms.TextInput().get_context("t", "v", {})["widget"]},
    )
    assert html == '<input class="app-own" name="t">'
