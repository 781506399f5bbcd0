"""Django's ``i18n`` tag library, with ``{% translate %}`` of a plain literal kept rendered.

Loaded by ``{% load i18n %}`` (``TEMPLATES["OPTIONS"]["libraries"]``): every tag and filter is
Django's own. A page has dozens of ``{% translate "…" %}``; Django looks each one up again at
every render (the active catalogue through a context-local, a lazy string, escaping), which
was about a fifth of the public lookup page's template time. A literal message without
context or filters renders to the same text every time under the same catalogue, so each
node keeps what it rendered per (catalogue, autoescape) — computed by Django's own code the
first time — and looks the active catalogue up once. Anything else (a variable, a context,
filters, ``noop``) renders as Django renders it.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.base import Variable, render_value_in_context
from django.templatetags import i18n as django_i18n
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import trans_real

register = template.Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)


class KeptTranslateNode(django_i18n.TranslateNode):
    """Django's TranslateNode; a plain literal's rendered text kept per catalogue."""

    kept: dict[tuple[Any, bool], str] | None = None

    def keep_if_literal(self) -> None:
        expression = self.filter_expression
        var = expression.var
        plain = (
            not self.noop
            and self.message_context is None
            and not expression.filters
            and isinstance(var, Variable)
            and isinstance(var.literal, str)
        )
        self.kept = {} if plain else None

    def render(self, context):
        if self.kept is None:
            return super().render(context)
        key = (trans_real.catalog(), context.autoescape)
        value = self.kept.get(key)
        if value is None:
            # Django's TranslateNode.render, once per catalogue.
            self.filter_expression.var.translate = True
            output = self.filter_expression.resolve(context)
            value = render_value_in_context(output, context)
            is_safe = isinstance(value, SafeData)
            value = value.replace("%%", "%")
            value = mark_safe(value) if is_safe else value
            self.kept[key] = value
        if self.asvar:
            context[self.asvar] = value
            return ""
        return value


@register.tag("translate")
@register.tag("trans")
def do_translate(parser, token):
    node = django_i18n.do_translate(parser, token)
    node.__class__ = KeptTranslateNode
    node.keep_if_literal()
    return node
