"""The public lookup by code and phone: progress without personal data, rate-limited."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from dossiers import services

from .factories import APPLICANT, office, received

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


def test_code_and_phone_show_the_progress_and_nothing_personal(client):
    o = office()
    dossier = received(o)
    services.start_processing(dossier=dossier, by=o.officer)
    response = client.get(reverse("lookup"), {"code": dossier.code, "phone": "+84 912 345 678"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Đang giải quyết" in page
    assert o.procedure.name in page
    for personal in (APPLICANT.full_name, APPLICANT.id_number, APPLICANT.address, APPLICANT.email):
        assert personal not in page


def test_a_wrong_phone_tells_nothing_about_the_dossier(client):
    dossier = received(office())
    page = client.get(reverse("lookup"), {"code": dossier.code, "phone": "0987654321"})
    text = page.content.decode()
    assert "Không tìm thấy hồ sơ" in text
    assert dossier.procedure.name not in text


def test_the_qr_link_opens_the_form_with_the_code_filled_in(client):
    dossier = received(office())
    page = client.get(reverse("lookup"), {"code": dossier.code}).content.decode()
    assert f'value="{dossier.code}"' in page
    assert "error-summary" not in page


def test_lookups_are_rate_limited(client, settings):
    settings.LOOKUP_RATE_LIMIT = 3
    dossier = received(office())
    params = {"code": dossier.code, "phone": "0912345678"}
    statuses = [client.get(reverse("lookup"), params).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_api_lookup(client):
    dossier = received(office())
    body = client.get(
        "/api/v1/public/lookup/", {"code": dossier.code, "phone": "0912345678"}
    ).json()
    assert body["status"] == "received"
    assert body["due_at"] and body["timeliness"] == "in_time"
    assert "applicant" not in body and APPLICANT.full_name not in str(body)
    missing = client.get("/api/v1/public/lookup/", {"code": dossier.code, "phone": "0900000000"})
    assert missing.status_code == 404
    assert client.get("/api/v1/public/lookup/", {"code": dossier.code}).status_code == 400


def test_api_lookups_are_rate_limited_with_the_time_to_wait(client, settings):
    settings.LOOKUP_RATE_LIMIT = 2
    dossier = received(office())
    params = {"code": dossier.code, "phone": "0912345678"}
    answers = [client.get("/api/v1/public/lookup/", params) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["code"] == "throttled"
    assert 1 <= int(answers[2]["Retry-After"]) <= 600
    other = client.get("/api/v1/public/lookup/", params, REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 200  # another client has its own budget
    assert client.get(reverse("lookup"), params).status_code == 200  # so has the page


def test_every_hint_a_field_points_to_is_on_the_page(client):
    page = client.get(reverse("lookup")).content.decode()
    described = re.findall(r'aria-describedby="([^"]+)"', page)
    assert described  # the code's format hint
    for ids in described:
        for id_ in ids.split():
            assert f'id="{id_}"' in page, id_


def test_the_lookup_row_is_what_the_orm_reads():
    """The lookup runs SQL the ORM wrote once, with the ORM's converters (SQLite's dates are
    text): its row is the ORM's, aware datetimes included."""
    from dossiers.models import Dossier
    from dossiers.selectors import _LOOKUP_FIELDS, lookup_row

    o = office()
    dossier = received(o)
    services.start_processing(dossier=dossier, by=o.officer)
    row = lookup_row(f"  {dossier.code} ")
    assert row == Dossier.objects.filter(pk=dossier.pk).values(*_LOOKUP_FIELDS).get()
    assert row["received_at"].tzinfo is not None and row["due_at"] > row["received_at"]
    assert lookup_row(dossier.code + "9") is None


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"code": "", "phone": ""},
        {"code": "   ", "phone": "0912345678"},
        {"code": " 000.00.15.H61-221102-0001 ", "phone": " +84 912 345 678 "},
        {"code": "x" * 49, "phone": "1" * 21},
        {"code": "x" * 48, "phone": "1" * 20},
        {"phone": "0912345678"},
    ],
)
def test_the_apis_parameters_are_cleaned_as_the_form_cleans_them(data):
    from django.http import QueryDict

    from dossiers.lookup import LookupForm, lookup_params

    query = QueryDict(mutable=True)
    query.update(data)
    form = LookupForm(query)
    cleaned, errors = lookup_params(query)
    assert errors == {name: list(e) for name, e in form.errors.items()}
    assert form.is_valid() == (not errors)
    if not errors:
        assert cleaned == form.cleaned_data


def test_the_lookups_cache_key_is_djangos_salted_hmac_of_code_and_phone(settings):
    from django.utils.crypto import salted_hmac

    from dossiers.lookup_cache import _entry

    for secret in ("one secret", "another secret"):
        settings.SECRET_KEY = secret
        expected = salted_hmac("dossiers.lookup", "A-1|912345678", algorithm="sha256")
        assert _entry("A-1", "912345678") == "lookup:" + expected.hexdigest()


def test_the_api_answers_json_whatever_the_client_accepts(client):
    from rest_framework.renderers import JSONRenderer

    dossier = received(office())
    params = {"code": dossier.code, "phone": "0912345678"}
    for accept in ("text/html", "application/xml", "*/*", "application/json"):
        answer = client.get("/api/v1/public/lookup/", params, HTTP_ACCEPT=accept)
        assert answer.status_code == 200, accept
        assert answer["Content-Type"] == "application/json"
        assert answer.json()["code"] == dossier.code
        assert answer.content == JSONRenderer().render(answer.json())  # as DRF writes it
    wrong = client.get("/api/v1/public/lookup/", {"code": dossier.code}, HTTP_ACCEPT="text/html")
    assert wrong.status_code == 400 and "phone" in wrong.json()["fields"]
