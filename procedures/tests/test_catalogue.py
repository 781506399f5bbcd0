"""The public catalogue: search, filters and pages, in the UI and the API alike."""

import pytest
from django.urls import reverse
from django.utils.translation import override

from procedures.choices import OnlineLevel, ProcedureLevel
from procedures.selectors import procedure_catalogue

from .factories import DocumentFactory, FieldFactory, ProcedureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    ho_tich = FieldFactory(code="ho-tich", name="Hộ tịch", sort_order=1)
    dat_dai = FieldFactory(code="dat-dai", name="Đất đai", sort_order=2)
    birth = ProcedureFactory(
        code="1.001193",
        name="Thủ tục đăng ký khai sinh",
        field=ho_tich,
        online_level=OnlineLevel.FULL,
    )
    DocumentFactory(procedure=birth, name="Tờ khai đăng ký khai sinh theo mẫu")
    death = ProcedureFactory(code="1.000656", name="Thủ tục đăng ký khai tử", field=ho_tich)
    land = ProcedureFactory(
        code="1.004227",
        name="Đăng ký biến động quyền sử dụng đất",
        field=dat_dai,
        level=ProcedureLevel.DISTRICT,
        online_level=OnlineLevel.PARTIAL,
    )
    ProcedureFactory(
        code="9.999999", name="Thủ tục đã bãi bỏ khai sinh", field=ho_tich, is_active=False
    )
    return {"birth": birth, "death": death, "land": land}


@pytest.mark.parametrize(
    "query",
    [
        "dang ky khai sinh",
        "ĐĂNG KÝ KHAI SINH",
        "Đăng ký khai sinh",
        "khai  sinh",
        "1.001193",
        "khai sinh,",
    ],
)
def test_search_ignores_case_and_diacritics(catalogue, query):
    assert list(procedure_catalogue(search=query)) == [catalogue["birth"]]


def test_every_word_must_match_and_withdrawn_procedures_are_hidden(catalogue):
    assert set(procedure_catalogue(search="dang ky")) == {
        catalogue["birth"],
        catalogue["death"],
        catalogue["land"],
    }
    assert not procedure_catalogue(search="khai sinh dat").exists()
    # "tu" is a word of its own: it does not match inside "thu tuc".
    assert list(procedure_catalogue(search="dang ky khai tu")) == [catalogue["death"]]


def test_filters_by_field_level_and_online_level(catalogue):
    assert set(procedure_catalogue(field="ho-tich")) == {catalogue["birth"], catalogue["death"]}
    assert list(procedure_catalogue(level="district")) == [catalogue["land"]]
    assert list(procedure_catalogue(online_level="partial")) == [catalogue["land"]]


def test_catalogue_page_in_vietnamese_finds_by_a_part_of_the_name(client, catalogue):
    response = client.get(reverse("procedures:catalogue"), {"search": "khai sinh"})
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="vi">' in page
    assert "Thủ tục đăng ký khai sinh" in page
    assert "Thủ tục đăng ký khai tử" not in page
    assert "Tìm thấy 1 thủ tục" in page


def test_catalogue_page_paginates(client):
    field = FieldFactory()
    ProcedureFactory.create_batch(45, field=field)
    response = client.get(reverse("procedures:catalogue"), {"field": field.code, "page": 3})
    assert len(response.context["page"].object_list) == 5
    assert "Trang 3/3" in response.content.decode()


def test_catalogue_page_shows_a_clear_error_for_an_unknown_filter(client, catalogue):
    response = client.get(reverse("procedures:catalogue"), {"level": "planet"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Lựa chọn không hợp lệ" in page or "Hãy chọn một lựa chọn hợp lệ" in page


def test_catalogue_page_queries_are_few(client, catalogue, django_assert_max_num_queries):
    ProcedureFactory.create_batch(30)
    with django_assert_max_num_queries(6):
        client.get(reverse("procedures:catalogue"))


def test_api_search_finds_birth_registration(client, catalogue):
    body = client.get("/api/v1/procedures/", {"search": "khai sinh"}).json()
    assert body["count"] == 1
    item = body["results"][0]
    assert item["code"] == "1.001193"
    assert item["field"] == {"code": "ho-tich", "name": "Hộ tịch"}
    assert item["time_limit"]["unit"] == "working_days"
    assert item["online_level"] == "full"


def test_api_filters_and_page_size(client, catalogue):
    body = client.get("/api/v1/procedures/", {"field": "ho-tich", "page_size": 1}).json()
    assert body["count"] == 2
    assert len(body["results"]) == 1
    assert body["next"]


def test_api_refuses_an_unknown_level_with_the_error_shape(client, catalogue):
    with override("en"):
        response = client.get("/api/v1/procedures/", {"level": "planet"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "level" in body["fields"]


def test_api_detail_has_documents_and_channels(client, catalogue):
    body = client.get("/api/v1/procedures/1.001193/").json()
    assert body["documents"] == [
        {
            "name": "Tờ khai đăng ký khai sinh theo mẫu",
            "kind": "original",
            "count": 1,
            "required": True,
        }
    ]
    assert body["channels"] == ["in_person", "postal", "online"]


def test_api_detail_of_an_unknown_code_is_a_404_with_the_error_shape(client):
    response = client.get("/api/v1/procedures/0.000000/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_detail_page_lists_documents_and_the_due_date(client, catalogue, settings):
    from portal.tests.factories import UnitFactory

    UnitFactory(level="province", name="UBND xã Khai Sinh")
    catalogue["birth"].level = "province"
    catalogue["birth"].save()
    response = client.get(reverse("procedures:detail", args=["1.001193"]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Tờ khai đăng ký khai sinh theo mẫu" in page
    assert "Nếu nộp hồ sơ ngay bây giờ" in page
    assert response.context["deadline"].due_at > response.context["deadline"].received_at


def test_detail_page_of_an_unknown_code_is_404(client):
    assert client.get(reverse("procedures:detail", args=["0.000000"])).status_code == 404
