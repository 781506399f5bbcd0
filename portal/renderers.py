"""The form renderer: Django's own, with its most used widget templates written in Python.

Rendering a widget through Django's templates costs a template render per input and one more
per ``<option>`` of a select — on the public lookup page a quarter of the page's time for two
text boxes, and more on the worklist's filter, whose selects list every procedure and unit.
The markup is tiny and fixed, so it is produced here directly, byte for byte what Django's
templates give (``portal/tests/test_renderers.py`` compares the two on every kind of value).

Only Django's stock templates are replaced, and only while they are the ones the engine would
load: an app that ships its own ``django/forms/widgets/…`` template gets it rendered as usual.
Every other template (forms, fields, errors, other widgets) is rendered by Django.
"""

from pathlib import Path
from typing import Any

import django
from django.forms.renderers import DjangoTemplates
from django.template.base import render_value_in_context
from django.template.context import Context
from django.utils.functional import cached_property
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

_WIDGETS = "django/forms/widgets/"
_INPUTS = frozenset(
    f"{_WIDGETS}{name}.html"
    for name in (
        "input", "text", "number", "email", "url", "password", "hidden", "date", "datetime",
        "time", "search", "tel", "color", "checkbox", "file",
    )
)  # fmt: skip
_SELECT = f"{_WIDGETS}select.html"
_OPTION = f"{_WIDGETS}select_option.html"
_TEXTAREA = f"{_WIDGETS}textarea.html"
_STOCK = _INPUTS | {_SELECT, _OPTION, _TEXTAREA}
_DJANGO_TEMPLATES = Path(django.__file__).parent
_CONTEXT = Context(autoescape=True)


def _shown(value: Any) -> str:
    """``{{ value }}``: localized as a template shows it (a number, a date), escaped."""
    return render_value_in_context(value, _CONTEXT)


def _attrs(attrs: dict[str, Any]) -> str:
    """``attrs.html``: `` name="value"`` each, the name alone for True, nothing for False."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {_shown(name)}")
        else:
            parts.append(f' {_shown(name)}="{conditional_escape(value)}"')
    return "".join(parts)


def _input(widget: dict[str, Any]) -> str:
    value = widget["value"]
    shown = f' value="{conditional_escape(value)}"' if value is not None else ""
    return (
        f'<input type="{_shown(widget["type"])}" '
        f'name="{_shown(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'
    )


def _option(option: dict[str, Any]) -> str:
    return (
        f'<option value="{conditional_escape(option["value"])}"{_attrs(option["attrs"])}>'
        f"{_shown(option['label'])}</option>"
    )


def _select(widget: dict[str, Any]) -> str | None:
    parts = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for option in group_choices:
            if option["template_name"] != _OPTION:
                return None  # an option of its own kind: Django renders the whole select
            parts.append(f"\n  {_option(option)}\n")  # the included file's last newline
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _textarea(widget: dict[str, Any]) -> str:
    value = widget["value"]
    shown = _shown(value) if value else ""
    name = _shown(widget["name"])
    return f'<textarea name="{name}"{_attrs(widget["attrs"])}>\n{shown}</textarea>'


class PortalFormRenderer(DjangoTemplates):
    """``FORM_RENDERER``: Django's template renderer with inputs, selects and text areas
    rendered in Python (see the module)."""

    @cached_property
    def _stock(self) -> frozenset[str]:
        """The widget templates that would load from Django itself, not from an app."""
        stock = set()
        for name in _STOCK:
            origin = self.engine.get_template(name).origin.name
            if Path(origin).is_relative_to(_DJANGO_TEMPLATES):
                stock.add(name)
        return frozenset(stock)

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name in self._stock:
            html = self._render_widget(template_name, context["widget"])
            if html is not None:
                return mark_safe(html)
        return super().render(template_name, context, request)

    @staticmethod
    def _render_widget(template_name: str, widget: dict[str, Any]) -> str | None:
        if template_name in _INPUTS:
            return _input(widget)
        if template_name == _SELECT:
            return _select(widget)
        if template_name == _OPTION:
            return _option(widget)
        return _textarea(widget)
