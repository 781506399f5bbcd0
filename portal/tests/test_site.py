"""The site shell: home, language, login, navigation by role, API schema."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from portal.choices import Role

from .factories import PASSWORD, MembershipFactory, UserFactory, unit_tree

pytestmark = pytest.mark.django_db


def test_home_speaks_vietnamese_by_default(client):
    page = client.get("/").content.decode()
    assert '<html lang="vi">' in page
    assert "Thủ tục hành chính" in page
    assert 'name="search"' in page


def test_the_language_switch_turns_the_site_english_and_back(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/procedures/"})
    assert response.status_code == 302
    page = client.get("/procedures/").content.decode()
    assert '<html lang="en">' in page
    assert "Administrative procedures" in page
    client.post(reverse("set_language"), {"language": "vi", "next": "/"})
    assert '<html lang="vi">' in client.get("/").content.decode()


def test_login_and_logout(client):
    user = UserFactory(username="canbo")
    response = client.post(reverse("login"), {"username": "canbo", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("account")).context["user"] == user
    client.post(reverse("logout"))
    assert client.get(reverse("account")).status_code == 302


def test_a_wrong_password_gets_a_vietnamese_error(client):
    UserFactory(username="canbo")
    page = client.post(reverse("login"), {"username": "canbo", "password": "sai"}).content.decode()
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in page


def test_administration_appears_only_for_administrators(client):
    tree = unit_tree()
    officer = MembershipFactory(unit=tree["district"], role=Role.COUNTER_OFFICER).user
    admin = MembershipFactory(unit=tree["district"], role=Role.ADMIN, user__is_staff=True).user
    client.force_login(officer)
    assert reverse("admin:index") not in client.get("/").content.decode()
    client.force_login(admin)
    assert reverse("admin:index") in client.get("/").content.decode()


def test_account_page_lists_roles_and_units(client):
    tree = unit_tree()
    membership = MembershipFactory(unit=tree["commune"], role=Role.MANAGER)
    client.force_login(membership.user)
    page = client.get(reverse("account")).content.decode()
    assert "UBND xã A1" in page
    assert "Lãnh đạo" in page


def test_every_asset_is_served_by_the_app_itself(client):
    for url in ["/", "/procedures/", "/login/", "/api/docs/"]:
        page = client.get(url).content.decode()
        assert "//cdn" not in page and "https://" not in page.split("<body")[0], url


def test_openapi_schema_is_valid(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/v1/procedures/{code}/deadline/" in out.read_text()


def test_api_token_is_issued_for_a_correct_password_only(client):
    UserFactory(username="canbo")
    ok = client.post("/api/v1/auth/token/", {"username": "canbo", "password": PASSWORD})
    assert ok.status_code == 200 and len(ok.json()["token"]) == 40
    bad = client.post("/api/v1/auth/token/", {"username": "canbo", "password": "x"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"


def test_units_api_lists_code_name_level_and_parent(client):
    tree = unit_tree()
    body = client.get("/api/v1/units/").json()
    district = next(u for u in body["results"] if u["code"] == tree["district"].code)
    assert district == {
        "code": tree["district"].code,
        "name": "UBND huyện A",
        "level": "district",
        "parent": tree["province"].code,
    }
