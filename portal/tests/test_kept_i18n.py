"""``{% load i18n %}`` loads portal.templatetags.kept_i18n: Django's tags, its translate kept
rendered per catalogue — the same text as Django's own tag in every form and language."""

import pytest
from django.template import Context, Engine, engines
from django.utils import translation

from portal.templatetags.kept_i18n import KeptTranslateNode

SNIPPETS = [
    '{% translate "Look up a dossier" %}',
    "{% trans 'Look up' %}",
    '{% translate "Receiving officer" context "signature block" %}',
    '{% translate "Receiving officer" context "signature block" as role %}[{{ role }}]',
    '{% translate "Applicant" as who %}[{{ who }}]{% translate "Applicant" as who %}{{ who }}',
    '{% translate "Dossier code" noop %}',
    '{% translate "Procedure"|upper %}',
    "{% translate message %}",
    '{% translate "100%% done <b>" %}',
    '{% translate "Not in any catalogue & <i>untranslated</i>" %}',
    '{% autoescape off %}{% translate "Look up a dossier" %}{{ message }}{% endautoescape %}',
    '{% for i in "abc" %}{% translate "Status" %}{% endfor %}',
]


def _render(template, autoescape: bool = True) -> str:
    return template.render(Context({"message": "Procedure <x>"}, autoescape=autoescape))


@pytest.mark.parametrize("source", SNIPPETS)
def test_the_kept_tag_renders_as_djangos(source):
    # One template each, rendered again and again: what a node kept is read back.
    ours = engines["django"].engine.from_string("{% load i18n %}" + source)
    django = Engine(libraries={"i18n": "django.templatetags.i18n"}).from_string(
        "{% load i18n %}" + source
    )
    for language in ("vi", "en", "vi", "en"):  # a kept text per catalogue
        with translation.override(language):
            for autoescape in (True, False, True):
                assert _render(ours, autoescape) == _render(django, autoescape), language


def test_the_projects_templates_use_the_kept_tag_for_plain_literals():
    template = engines["django"].engine.from_string(
        '{% load i18n %}{% translate "Status" %}{% translate message %}'
    )
    nodes = template.nodelist.get_nodes_by_type(KeptTranslateNode)
    assert [node.kept is not None for node in nodes] == [True, False]
    with translation.override("vi"):
        assert template.render(Context({"message": "Status"})) == "Trạng tháiTrạng thái"


def test_i18n_is_the_only_library_name_used_twice():
    """The check silenced for the kept library (templates.W003) finds nothing else."""
    from django.core.checks.templates import check_templates

    warnings = check_templates(None)
    assert [w.id for w in warnings] == ["templates.W003"]
    assert "'i18n' is used for multiple template tag modules" in warnings[0].msg
    assert "portal.templatetags.kept_i18n" in warnings[0].msg
