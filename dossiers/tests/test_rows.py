"""The worklist's and the overdue list's rows, written in Python (dossiers.rows), are the
markup the templates wrote: both are rendered here on the same rows and compared."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

from dossiers import services
from dossiers.models import Dossier
from dossiers.rows import overdue_rows, worklist_rows
from dossiers.selectors import OverdueDossier, with_current_timeliness
from portal.tests.factories import UserFactory

from .factories import office, received, submitted

pytestmark = pytest.mark.django_db

# The templates' loops as they were before dossiers.rows.
REFERENCE = Path(__file__).parent / "reference"
WORKLIST_LOOP = (REFERENCE / "worklist_rows.html").read_text(encoding="utf-8")
OVERDUE_LOOP = (REFERENCE / "overdue_rows.html").read_text(encoding="utf-8")


def _normal(html: str) -> str:
    """Whitespace as a browser reads it: runs are one space, and none around table rows and
    cells (where the templates had their indentation)."""
    html = re.sub(r"\s+", " ", html).strip()
    return re.sub(r"\s*(</?t[rdh]\b[^>]*>)\s*", r"\1", html)


def _dossiers(o):
    """Dossiers of every kind a row shows: received, in progress and assigned, paused,
    overdue with an apology slip, an online one not yet received, names to escape."""
    plain = received(o)
    busy = received(o)
    services.start_processing(dossier=busy, by=o.officer)
    paused = received(o)
    services.start_processing(dossier=paused, by=o.officer)
    services.request_supplement(dossier=paused, by=o.officer, missing="<b>Giấy</b>", reason="R")
    late = received(o)
    Dossier.objects.filter(pk=late.pk).update(
        due_at=datetime(2026, 1, 5, 10, 30, tzinfo=UTC),
        received_at=datetime(2025, 12, 31, 17, 45, tzinfo=UTC),
        applicant_name='Lê <Thị> "B" & C',
        apologized_at=datetime(2026, 1, 6, 2, tzinfo=UTC),
        promised_at=datetime(2026, 1, 9, 16, 30, tzinfo=UTC),
    )
    online = submitted(o)
    return [plain, busy, paused, late, online]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_worklist_rows_are_the_template_s(language, settings):
    settings.TIME_ZONE = "Asia/Ho_Chi_Minh"
    o = office()
    pks = [d.pk for d in _dossiers(o)]
    now = datetime(2026, 1, 6, 3, tzinfo=UTC)
    dossiers = list(
        with_current_timeliness(Dossier.objects.filter(pk__in=pks), now)
        .select_related("procedure", "unit")
        .order_by("pk")
    )
    left = [
        None,
        timedelta(hours=3),  # due soon
        timedelta(days=2, hours=1),
        -timedelta(days=1, minutes=30),  # overdue
        None,
    ]
    rows = list(zip(dossiers, left, strict=True))
    with translation.override(language):
        ours = worklist_rows(rows)
        theirs = Template(WORKLIST_LOOP).render(Context({"rows": rows}))
    assert _normal(ours) == _normal(theirs)
    assert "Lê &lt;Thị&gt; &quot;B&quot; &amp; C" in ours


@pytest.mark.parametrize("language", ["vi", "en"])
def test_overdue_rows_are_the_template_s(language, settings):
    settings.TIME_ZONE = "Asia/Ho_Chi_Minh"
    o = office()
    dossiers = _dossiers(o)
    named = UserFactory(first_name="Hà", last_name="<Văn>")
    Dossier.objects.filter(pk=dossiers[1].pk).update(assigned_to=named)
    found = list(
        Dossier.objects.filter(pk__in=[d.pk for d in dossiers if d.received_at])
        .select_related("procedure", "unit", "assigned_to")
        .order_by("pk")
    )
    rows = [OverdueDossier(d, timedelta(hours=8 * n + 1), n) for n, d in enumerate(found, start=1)]
    with translation.override(language):
        ours = overdue_rows(rows)
        theirs = Template(OVERDUE_LOOP).render(Context({"rows": rows}))
    assert _normal(ours) == _normal(theirs)
    assert "&lt;Văn&gt;" in ours


FILTER_LOOP = (REFERENCE / "filter_fields.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_filter_fields_are_the_template_s(language):
    from dossiers.forms import worklist_filter_form
    from dossiers.templatetags.dossier_tags import filter_fields
    from dossiers.views import _MAIN_FILTERS, _MORE_FILTERS

    o = office()
    user = UserFactory(is_superuser=True)
    with translation.override(language):
        for data in (
            {"scope": "todo"},
            # Errors on several fields, values to escape, a chosen unit.
            {
                "search": '"><script>x</script>',
                "status": "nonsense",
                "received_from": "2026-02-30",
                "received_to": "2026-01-01",
                "unit": o.commune.code,
                "procedure": "<b>",
            },
        ):
            form = worklist_filter_form(data, user=user)
            form.is_valid()
            fields = [form[name] for name in (*_MAIN_FILTERS, *_MORE_FILTERS)]
            expected = Template(FILTER_LOOP).render(Context({"fields": fields}))
            expected = expected.removeprefix("\n")  # the line of the reference's comment
            written = filter_fields(fields)
            assert written == expected
            assert "<script>" not in written
    assert 'class="field field-error"' in written and "error-text" in written
