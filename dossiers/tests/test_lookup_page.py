"""The lookup page filled into markup kept rendered per shape (portal.kept_pages): the same
bytes and headers as the page rendered in full, in every state and language, for visitors not
signed in; signed-in users and waiting messages get the page rendered in full."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.template.defaultfilters import urlencode
from django.test import Client, RequestFactory
from django.test.signals import template_rendered
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import dateformat, timezone

from dossiers import services
from dossiers.models import Dossier

from .factories import office, received

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


@pytest.fixture
def rendered():
    """The names of the templates rendered while the test runs."""
    names: list[str] = []

    def seen(sender, template, context, **kwargs):
        names.append(template.name)

    template_rendered.connect(seen)
    yield names
    template_rendered.disconnect(seen)


def _received(o):
    return received(o)


def _processing(o):
    dossier = received(o)
    return services.start_processing(dossier=dossier, by=o.officer)


def _overdue(o):
    dossier = _processing(o)
    Dossier.objects.filter(pk=dossier.pk).update(due_at=timezone.now() - timedelta(days=2))
    return dossier


def _apologised(o):
    dossier = _overdue(o)
    return services.issue_apology(
        dossier=dossier,
        by=o.officer,
        promised_at=timezone.now() + timedelta(days=3),
        reason="Chờ ý kiến của Sở",
    )


def _waiting_for_documents(o):
    dossier = _processing(o)
    return services.request_supplement(
        dossier=dossier, by=o.officer, missing="Bản sao sổ hộ khẩu", reason="Thiếu giấy tờ"
    )


def _returned(o):
    dossier = _processing(o)
    services.resolve_dossier(dossier=dossier, by=o.officer, result="Quyết định số 12/QĐ")
    return services.return_result(dossier=dossier, by=o.counter)


def _withdrawn(o):
    return services.withdraw_dossier(dossier=received(o), by=o.counter, reason="Công dân rút")


STATES = [
    _received,
    _processing,
    _overdue,
    _apologised,
    _waiting_for_documents,
    _returned,
    _withdrawn,
]


def _look_up(client, dossier, *, code=None, phone="0912 345 678", **headers):
    params = {"code": code or dossier.code, "phone": phone}
    return client.get(reverse("lookup"), params, **headers)


def _without_token(html: str) -> str:
    return TOKEN.sub('name="csrfmiddlewaretoken" value=""', html)


@pytest.mark.parametrize("state", STATES, ids=lambda state: state.__name__.strip("_"))
@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_kept_page_is_the_page_rendered_in_full(client, state, language, rendered):
    o = office(name='Cấp giấy phép <xây dựng> & "sửa chữa" nhà ở riêng lẻ')
    dossier = state(o)
    client.cookies["django_language"] = language
    # What the visitor typed comes back as typed: spaces around the code, marks in the phone.
    typed = {"code": f"  {dossier.code} ", "phone": "<b>0912.345.678&'"}
    with override_settings(KEPT_PAGES=False):
        full = _look_up(client, dossier, **typed)
    assert rendered, "the page rendered in full"
    first = _look_up(client, dossier, **typed)
    rendered.clear()
    kept = _look_up(client, dossier, **typed)
    assert rendered == [], "the second page was filled in, not rendered"
    assert full.status_code == kept.status_code == first.status_code == 200
    page = kept.content.decode()
    assert _without_token(page) == _without_token(full.content.decode())
    assert _without_token(first.content.decode()) == _without_token(page)  # cut, then filled
    assert "&lt;xây dựng&gt; &amp; &quot;sửa chữa&quot;" in page
    assert 'value="&lt;b&gt;0912.345.678&amp;&#x27;"' in page
    for header in ("Content-Type", "Content-Language", "Vary"):
        assert kept.get(header) == full.get(header), header
    assert set(kept.cookies) == set(full.cookies)


def test_each_shape_keeps_its_own_markup(client, rendered):
    o = office()
    dossiers = [state(o) for state in STATES]
    with override_settings(KEPT_PAGES=False):
        full = [_without_token(_look_up(client, d).content.decode()) for d in dossiers]
    for _round in range(2):  # the second round all filled in from kept shapes
        rendered.clear()
        for dossier, page in zip(dossiers, full, strict=True):
            assert _without_token(_look_up(client, dossier).content.decode()) == page
    assert rendered == []


def test_one_shape_kept_serves_every_dossier_of_that_shape(client, rendered):
    o = office()
    first, second = received(o), received(o)
    _look_up(client, first)
    rendered.clear()
    page = _look_up(client, second).content.decode()
    assert rendered == []
    assert second.code in page and first.code not in page
    assert f'name="code" value="{second.code}"' in page


def test_the_kept_pages_token_passes_the_csrf_check(rendered):
    client = Client(enforce_csrf_checks=True)
    dossier = received(office())
    _look_up(client, dossier)
    rendered.clear()
    page = _look_up(client, dossier).content.decode()
    assert rendered == []
    token = TOKEN.search(page).group(1)
    switched = client.post(
        reverse("set_language"), {"language": "en", "csrfmiddlewaretoken": token}
    )
    assert switched.status_code == 302
    assert client.cookies["django_language"].value == "en"


def test_the_language_switch_and_login_link_come_back_to_this_lookup(client):
    dossier = received(office())
    _look_up(client, dossier)
    response = _look_up(client, dossier, phone="0912 345 678&x=<y>")
    page = response.content.decode()
    path = response.wsgi_request.get_full_path()
    assert f'<input name="next" type="hidden" value="{path.replace("&", "&amp;")}">' in page
    assert f'href="{reverse("login")}?next={urlencode(path)}"' in page


def test_a_signed_in_user_gets_the_page_rendered_for_them(client, rendered):
    o = office()
    dossier = received(o)
    _look_up(client, dossier)
    client.force_login(o.citizen)
    rendered.clear()
    page = _look_up(client, dossier).content.decode()
    assert "dossiers/lookup.html" in rendered
    assert "Hồ sơ của tôi" in page and "Đăng xuất" in page
    assert dossier.code in page


def test_a_waiting_message_is_shown_on_a_page_rendered_in_full(client, rendered):
    dossier = received(office())
    _look_up(client, dossier)
    storage = CookieStorage(RequestFactory().get("/"))
    client.cookies["messages"] = storage._encode([Message(constants.INFO, "Đã gửi phản hồi.")])
    rendered.clear()
    page = _look_up(client, dossier).content.decode()
    assert "dossiers/lookup.html" in rendered
    assert "Đã gửi phản hồi." in page
    rendered.clear()
    _look_up(client, dossier)  # the message was shown once
    assert rendered == []


def test_kept_pages_off_renders_every_page(client, rendered, settings):
    settings.KEPT_PAGES = False
    dossier = received(office())
    for _ in range(2):
        _look_up(client, dossier)
    assert rendered.count("dossiers/lookup.html") == 2


def test_the_dates_show_as_djangos_date_filter_shows_them_in_local_time(client):
    dossier = _returned(office())
    page = _look_up(client, dossier).content.decode()
    for when in (dossier.received_at, dossier.due_at, dossier.resolved_at, dossier.returned_at):
        assert f"<dd>{dateformat.format(timezone.localtime(when), 'H:i d/m/Y')}</dd>" in page
