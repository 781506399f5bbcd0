"""The lists' quick filters (dossier_tags: local_date, the labels) and the rows' links
(portal.links.page_url_maker) write exactly what Django's date filter, get_FOO_display and
{% url %} write."""

from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.urls import reverse, set_script_prefix
from django.utils import translation
from django.utils.html import conditional_escape

from dossiers.choices import Channel, Status, Timeliness
from dossiers.models import Dossier
from portal.links import page_url_maker
from procedures.choices import DocumentKind

MOMENTS = [
    datetime(2026, 3, 9, 18, 30, tzinfo=UTC),  # 01:30 the next day in Hà Nội
    datetime(2026, 12, 31, 16, 59, 59, tzinfo=UTC),  # 23:59 on New Year's Eve there
    datetime(2026, 1, 2, 3, 4),  # naive: shown as it is
    date(2026, 7, 5),
    None,
    "",
]
FORMATS = ["d/m/Y", "H:i", "H:i d/m/Y", "d/m/Y H:i", "j F Y", "D d/m"]


def _render(text: str, **context) -> str:
    return Template("{% load dossier_tags %}" + text).render(Context(context))


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_local_date_writes_what_the_date_filter_writes(settings, language, moment, fmt):
    settings.TIME_ZONE = "Asia/Ho_Chi_Minh"
    with translation.override(language):
        if type(moment) is date and "H" in fmt:  # Django refuses a time of a date: so do we
            for name in ("local_date", "date"):
                with pytest.raises(TypeError):
                    _render("{{ v|" + name + ':"' + fmt + '" }}', v=moment)
            return
        ours = _render('{{ v|local_date:"' + fmt + '" }}', v=moment)
        django = _render('{{ v|date:"' + fmt + '" }}', v=moment)
    assert ours == django


def test_the_labels_are_the_models_labels():
    with translation.override("vi"):
        for status in Status.values:
            shown = Dossier(status=status).get_status_display()
            assert _render("{{ v|status_label }}", v=status) == shown
        for channel in Channel.values:
            shown = Dossier(channel=channel).get_channel_display()
            assert _render("{{ v|channel_label }}", v=channel) == shown
        for value, label in Timeliness.choices:
            assert _render("{{ v|timeliness_label }}", v=value) == str(label)
        for value, label in DocumentKind.choices:
            assert _render("{{ v|document_kind }}", v=value) == str(label)
        assert _render("{{ v|status_label }}|{{ v|timeliness_label }}", v="unknown") == "unknown|"
    with translation.override("en"):  # lazy labels: the language of the page
        assert _render("{{ v|status_label }}", v=Status.RECEIVED) == str(Status.RECEIVED.label)


@pytest.mark.parametrize(
    "code", ["000.00.15.H61-261127-0001", "a b", "x?y#z", "100%", "đơn-vị", "a&b=c", "~:@!"]
)
@pytest.mark.parametrize("prefix", ["/", "/motcua/"])
def test_a_row_s_link_is_the_reversed_url(code, prefix):
    set_script_prefix(prefix)
    try:
        made = page_url_maker("dossiers:detail")(code)
        assert conditional_escape(made) == _render("{% url 'dossiers:detail' v %}", v=code)
        assert made == reverse("dossiers:detail", args=[code])
    finally:
        set_script_prefix("/")


def test_code_breaks_escape_each_part():
    assert _render("{{ v|code_breaks }}", v='000.00.15.H61-26"1127-<b>&') == (
        "000.00.15.H61-<wbr>26&quot;1127-<wbr>&lt;b&gt;&amp;"
    )
