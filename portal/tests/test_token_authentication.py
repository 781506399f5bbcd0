"""API tokens read in one statement with the user's memberships (portal.selectors.user_by_token)
give what DRF's token read and ``user_memberships`` give, on SQLite and PostgreSQL alike."""

import pytest
from django.contrib.auth.models import User
from django.forms.models import model_to_dict
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from portal.choices import Role
from portal.models import Membership
from portal.selectors import user_by_token, user_memberships

from .factories import MembershipFactory, UserFactory, unit_tree

pytestmark = pytest.mark.django_db


def as_read(user: User) -> dict:
    return {f.name: getattr(user, f.attname) for f in User._meta.concrete_fields}


def test_the_user_and_the_token_are_read_as_the_orm_reads_them():
    user = UserFactory(first_name="Lan", is_staff=True)
    token = Token.objects.create(user=user)

    found_user, found_token = user_by_token(token.key)

    read = User.objects.get(pk=user.pk)
    assert as_read(found_user) == as_read(read)
    assert found_user.is_staff is True and found_user.is_superuser is False  # bools, not 0/1
    assert found_user.date_joined.tzinfo is not None  # aware, as the ORM gives
    assert (found_token.key, found_token.user_id) == (token.key, user.pk)
    assert found_token.created == Token.objects.get(pk=token.key).created
    assert found_token.user is found_user
    assert found_user._state.adding is False and found_user._state.db == "default"


def test_the_memberships_come_with_their_units_and_are_not_read_again(
    django_assert_num_queries,
):
    units = unit_tree()
    user = UserFactory()
    MembershipFactory(user=user, unit=units["district"], role=Role.COUNTER_OFFICER)
    MembershipFactory(user=user, unit=units["commune"], role=Role.MANAGER)
    key = Token.objects.create(user=user).key

    with django_assert_num_queries(1):
        found, _token = user_by_token(key)
        held = user_memberships(found)
        paths = [m.unit.path for m in held]
        owners = {m.user for m in held}

    expected = Membership.objects.filter(user=user).select_related("unit").order_by("pk")
    assert [model_to_dict(m) for m in held] == [model_to_dict(m) for m in expected]
    assert paths == [m.unit.path for m in expected]
    assert owners == {found}


def test_a_citizen_has_no_memberships():
    key = Token.objects.create(user=UserFactory()).key

    found, _token = user_by_token(key)

    assert user_memberships(found) == ()


def test_an_unknown_key_finds_nothing():
    Token.objects.create(user=UserFactory())

    assert user_by_token("0" * 40) is None


def test_a_membership_saved_later_is_seen_by_the_next_request():
    units = unit_tree()
    user = UserFactory()
    key = Token.objects.create(user=user).key
    found, _token = user_by_token(key)
    assert user_memberships(found) == ()

    MembershipFactory(user=user, unit=units["district"], role=Role.MANAGER)

    found, _token = user_by_token(key)
    assert [m.role for m in user_memberships(found)] == [Role.MANAGER]


@pytest.mark.parametrize(
    ("header", "vietnamese", "english"),
    [
        ("Token " + "0" * 40, "Token không hợp lệ.", "Invalid token."),
        (
            "Token",
            "Header token không hợp lệ: không có thông tin xác thực.",
            "Invalid token header. No credentials provided.",
        ),
        (
            "Token a b",
            "Header token không hợp lệ: token không được chứa dấu cách.",
            "Invalid token header. Token string should not contain spaces.",
        ),
    ],
)
def test_a_wrong_token_is_refused_in_the_reader_s_language(header, vietnamese, english):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    answers = {
        language: client.get("/api/v1/dossiers/", HTTP_ACCEPT_LANGUAGE=language)
        for language in ("vi", "en")
    }

    # 403, not 401: the session comes first among the schemes, and it names no challenge
    assert {r.status_code for r in answers.values()} == {403}
    assert answers["vi"].json()["message"] == vietnamese
    assert answers["en"].json()["message"] == english
    assert answers["vi"].json()["code"] == "authentication_failed"


def test_an_inactive_user_s_token_is_refused():
    user = UserFactory(is_active=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    response = client.get("/api/v1/dossiers/", HTTP_ACCEPT_LANGUAGE="vi")

    assert response.status_code == 403
    assert response.json()["message"] == "Tài khoản đã bị khóa hoặc đã bị xóa."


def test_a_counter_officer_s_list_reads_the_token_once_and_no_membership_again(
    django_assert_num_queries,
):
    units = unit_tree()
    officer = MembershipFactory(unit=units["district"], role=Role.COUNTER_OFFICER).user
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=officer).key}")

    # the token with the user and memberships, the units they see, the count
    with django_assert_num_queries(3):
        response = client.get("/api/v1/dossiers/")

    assert response.status_code == 200
