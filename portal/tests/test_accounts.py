"""Citizen accounts: registration, login by e-mail or phone, e-mail verification, profile and
password reset.

Texts from Django's own Vietnamese catalogue are asserted as Vietnamese. The portal's new texts
are asserted through ``vi()`` (their Vietnamese once translated, their English until then), so
the tests hold before and after locale/vi is updated.
"""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from portal.auth_backends import canonical_phone, find_account
from portal.choices import MessageChannel, Role
from portal.models import OutboxMessage, Profile
from portal.services import (
    EmailVerificationError,
    email_verification_token,
    register_citizen,
    update_profile,
    verify_email,
)

from .factories import PASSWORD, MembershipFactory, UserFactory, unit_tree

pytestmark = pytest.mark.django_db
User = get_user_model()
NAME = "Nguyễn Văn An"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # the per-connection limits count in the cache, shared by every test


def vi(msgid: str) -> str:
    """A portal text as a Vietnamese page shows it (HTML-escaped)."""
    with translation.override("vi"):
        return escape(gettext(msgid))


def form_data(identifier: str, **overrides) -> dict:
    data = {
        "identifier": identifier,
        "full_name": NAME,
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "consent": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def verification_messages(user) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(key__startswith=f"verify-email:{user.pk}:").order_by("id")
    )


def link_in(message: OutboxMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/verify-email/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def logged_in_user_id(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


def citizen(identifier: str = "an@example.com", **kwargs):
    return register_citizen(identifier=identifier, full_name=NAME, password=PASSWORD, **kwargs)


# --- Registration -----------------------------------------------------------------------------


def test_register_by_email_logs_in_and_sends_a_verification_link(client):
    response = client.post(reverse("register"), form_data("An.Nguyen@Example.COM"))

    assert response.status_code == 302 and response.url == reverse("profile")
    user = User.objects.get(username="an.nguyen@example.com")
    assert user.email == "an.nguyen@example.com"
    assert (user.last_name, user.first_name) == ("Nguyễn Văn", "An")
    assert user.profile.full_name == NAME and user.profile.email_verified_at is None
    assert logged_in_user_id(client) == user.pk
    [message] = verification_messages(user)
    assert message.channel == MessageChannel.EMAIL
    assert message.recipient == "an.nguyen@example.com"
    assert "http://testserver/verify-email/" in message.body  # absolute, to this site
    page = client.get(response.url).content.decode()
    assert "an.nguyen@example.com" in page  # the message and the profile
    assert f'href="{reverse("profile")}">{NAME}</a>' in page  # the header


def test_register_by_phone_stores_the_national_number_and_sends_nothing(client):
    response = client.post(reverse("register"), form_data("+84 912.345.678"))

    assert response.status_code == 302
    user = User.objects.get(username="0912345678")
    assert user.email == ""
    assert user.profile.phone == "0912345678"
    assert logged_in_user_id(client) == user.pk
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    ("existing", "typed"),
    [
        ("an@example.com", "AN@Example.com"),
        ("0912345678", "+84 912 345 678"),
        ("0912345678", "84912345678"),
    ],
)
def test_an_identifier_already_registered_is_refused(client, existing, typed):
    citizen(existing)
    page = client.post(reverse("register"), form_data(typed)).content.decode()

    assert User.objects.count() == 1
    message = (
        "An account with this e-mail address already exists. Log in, or reset your "
        "password if you have forgotten it."
        if "@" in typed
        else "An account with this phone number already exists. Log in instead."
    )
    assert vi(message) in page
    assert 'href="#id_identifier"' in page  # the error summary links to the field


def test_an_email_used_by_a_staff_account_is_refused_too(client):
    UserFactory(username="canbo", email="Hoa.Tran@Example.com")
    client.post(reverse("register"), form_data("hoa.tran@example.com"))
    assert not User.objects.filter(username="hoa.tran@example.com").exists()


def test_a_weak_password_is_refused_in_vietnamese(client):
    page = client.post(
        reverse("register"),
        form_data("an@example.com", password="password123", password_confirm="password123"),
    ).content.decode()
    assert "Mật khẩu này quá phổ biến." in page
    assert not User.objects.exists()


def test_a_password_like_the_email_is_refused(client):
    similar = {"password": "nguyenvanan", "password_confirm": "nguyenvanan"}
    page = client.post(
        reverse("register"), form_data("nguyenvanan@example.com", **similar)
    ).content.decode()
    assert "Mật khẩu quá giống với" in page
    assert not User.objects.exists()


def test_the_confirmation_must_match(client):
    page = client.post(
        reverse("register"), form_data("an@example.com", password_confirm="Khac-han-2026")
    ).content.decode()
    assert "Hai trường mật khẩu không giống nhau." in page
    assert not User.objects.exists()


def test_consent_to_the_processing_of_personal_data_is_required(client):
    page = client.post(reverse("register"), form_data("an@example.com", consent=None))
    page = page.content.decode()
    assert (
        vi("To create an account you need to agree to the processing of your personal data.")
        in page
    )
    assert "13/2023/NĐ-CP" in page
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("nguyen van an", "Enter an e-mail address or a Vietnamese phone number."),
        ("0123 456 789", "Enter a Vietnamese phone number, e.g. 0912345678 or 02163852300."),
        ("an@", "Enter a valid email address."),
    ],
)
def test_an_identifier_of_neither_shape_is_refused(client, typed, expected):
    page = client.post(reverse("register"), form_data(typed)).content.decode()
    assert vi(expected) in page
    assert not User.objects.exists()


def test_the_registration_form_labels_every_field(client):
    page = client.get(reverse("register")).content.decode()
    inputs = _inputs(page)
    assert {"identifier", "full_name", "password", "password_confirm", "consent"} <= set(inputs)
    for name, input_id in inputs.items():
        assert f'<label for="{input_id}"' in page, name


def test_a_logged_in_user_is_sent_from_register_to_the_profile(client):
    client.force_login(citizen())
    assert client.get(reverse("register")).url == reverse("profile")


def test_the_service_refuses_a_taken_identifier_with_the_field_named():
    citizen("an@example.com")
    with pytest.raises(ValidationError) as caught:
        citizen("AN@EXAMPLE.COM")
    assert set(caught.value.error_dict) == {"identifier"}


# --- Login ------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["an@example.com", "AN@Example.Com", " an@example.com "])
def test_login_by_email_in_any_case(client, typed):
    user = citizen("an@example.com")
    response = client.post(reverse("login"), {"username": typed, "password": PASSWORD})
    assert response.status_code == 302
    assert logged_in_user_id(client) == user.pk


@pytest.mark.parametrize(
    "typed", ["0912345678", "0912 345 678", "0912.345.678", "+84912345678", "+84 912 345 678"]
)
def test_login_by_phone_in_any_common_form(client, typed):
    user = citizen("0912345678")
    response = client.post(reverse("login"), {"username": typed, "password": PASSWORD})
    assert response.status_code == 302
    assert logged_in_user_id(client) == user.pk


def test_staff_still_log_in_with_their_username_and_by_email(client):
    staff = UserFactory(username="canbo", email="Canbo@Example.com")
    assert authenticate(username="canbo", password=PASSWORD) == staff
    assert authenticate(username="canbo@example.com", password=PASSWORD) == staff
    response = client.post(reverse("login"), {"username": "canbo", "password": PASSWORD})
    assert response.status_code == 302


def test_a_wrong_password_or_an_unknown_name_does_not_log_in(client):
    citizen("an@example.com")
    citizen("0912345678")
    assert authenticate(username="an@example.com", password="sai-mat-khau") is None
    assert authenticate(username="0912 345 678", password="sai-mat-khau") is None
    assert authenticate(username="ai@example.com", password=PASSWORD) is None
    page = client.post(reverse("login"), {"username": "0987654321", "password": PASSWORD})
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in page.content.decode()


def test_an_inactive_account_cannot_log_in_by_email():
    user = citizen("an@example.com")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert authenticate(username="an@example.com", password=PASSWORD) is None


def test_an_email_shared_by_two_staff_accounts_logs_in_to_neither():
    UserFactory(username="canbo1", email="phong@example.com")
    UserFactory(username="canbo2", email="phong@example.com")
    assert find_account("phong@example.com") is None
    assert authenticate(username="canbo1", password=PASSWORD).username == "canbo1"


@pytest.mark.parametrize(
    ("typed", "national"),
    [
        ("0912 345 678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("+84 (0) 912 345 678", "0912345678"),
        ("+84 216 385 2300", "02163852300"),
    ],
)
def test_phone_numbers_are_read_in_their_common_forms(typed, national):
    assert canonical_phone(typed) == national


def test_the_login_page_links_to_password_reset_and_registration(client):
    page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in page
    assert f'href="{reverse("register")}"' in page
    assert f"{vi('Username')}, {vi('e-mail or phone number')}" in page


# --- E-mail verification ----------------------------------------------------------------------


def test_the_verification_link_works_once(client):
    user = citizen()
    link = link_in(verification_messages(user)[0])

    response = client.get(link)
    assert response.status_code == 200
    assert vi("Your e-mail address is confirmed") in response.content.decode()
    user.profile.refresh_from_db()
    assert user.profile.email_verified_at is not None
    verified_at = user.profile.email_verified_at

    again = client.get(link)
    assert vi("Already confirmed") in again.content.decode()
    user.profile.refresh_from_db()
    assert user.profile.email_verified_at == verified_at


def test_a_tampered_link_is_refused(client):
    user = citizen()
    token = email_verification_token(user)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = client.get(reverse("verify-email", args=[tampered]))
    assert response.status_code == 400
    assert vi("This link cannot be used") in response.content.decode()
    user.profile.refresh_from_db()
    assert user.profile.email_verified_at is None


def test_an_expired_link_is_refused(client, time_machine):
    time_machine.move_to(timezone.now())
    user = citizen()
    link = link_in(verification_messages(user)[0])
    time_machine.move_to(timezone.now() + timedelta(days=3, minutes=1))
    response = client.get(link)
    assert response.status_code == 400
    assert vi("This link has expired") in response.content.decode()
    user.profile.refresh_from_db()
    assert user.profile.email_verified_at is None


def test_the_link_lifetime_follows_the_setting(settings, time_machine):
    settings.ACCOUNT_VERIFY_MAX_AGE = 60
    time_machine.move_to(timezone.now())
    user = citizen()
    token = email_verification_token(user)
    time_machine.move_to(timezone.now() + timedelta(seconds=61))
    with pytest.raises(EmailVerificationError) as caught:
        verify_email(token=token)
    assert caught.value.code == "expired"


def test_a_link_for_a_previous_address_no_longer_works():
    user = citizen("an@example.com")
    old_token = email_verification_token(user)
    update_profile(user=user, email="an.moi@example.com")
    with pytest.raises(EmailVerificationError) as caught:
        verify_email(token=old_token)
    assert caught.value.code == "invalid"


def test_resending_queues_a_new_link(client, time_machine):
    time_machine.move_to(timezone.now())
    user = citizen()
    client.force_login(user)
    assert client.get(reverse("resend-verification")).status_code == 200
    time_machine.move_to(timezone.now() + timedelta(seconds=5))

    response = client.post(reverse("resend-verification"))

    assert response.url == reverse("profile")
    first, second = verification_messages(user)
    assert link_in(first) != link_in(second)
    assert client.get(link_in(second)).status_code == 200


def test_resending_is_limited_per_connection(client):
    user = citizen("0912345678")
    client.force_login(user)
    for _attempt in range(5):
        client.post(reverse("resend-verification"))
    response = client.post(reverse("resend-verification"), follow=True)
    assert vi("Too many attempts from your connection. Try again in a while.") in (
        response.content.decode()
    )


def test_resending_to_a_confirmed_address_sends_nothing(client):
    user = citizen()
    verify_email(token=email_verification_token(user))
    client.force_login(user)
    client.post(reverse("resend-verification"))
    assert len(verification_messages(user)) == 1


def test_resending_without_an_address_sends_nothing(client):
    user = citizen("0912345678")
    client.force_login(user)
    response = client.post(reverse("resend-verification"), follow=True)
    assert vi("Add an e-mail address to your profile first.") in response.content.decode()
    assert not OutboxMessage.objects.exists()


# --- Profile ----------------------------------------------------------------------------------


def profile_data(user, **changes) -> dict:
    profile = Profile.objects.get(user=user)
    data = {
        "full_name": profile.full_name,
        "id_number": profile.id_number,
        "phone": profile.phone,
        "address": profile.address,
        "email": user.email,
        "current_password": "",
    }
    data.update(changes)
    return data


def test_the_profile_needs_a_login(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302 and reverse("login") in response.url


def test_the_profile_saves_normalised_details(client):
    user = citizen()
    client.force_login(user)
    response = client.post(
        reverse("profile"),
        profile_data(
            user,
            full_name="Trần Thị  Bình",
            id_number="0010 9000 1234",
            phone="+84 987 654 321",
            address="Thôn 2, xã Yên Hợp",
        ),
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=user)
    assert (profile.full_name, profile.id_number, profile.phone, profile.address) == (
        "Trần Thị Bình",
        "001090001234",
        "0987654321",
        "Thôn 2, xã Yên Hợp",
    )
    user.refresh_from_db()
    assert (user.last_name, user.first_name) == ("Trần Thị", "Bình")


def test_a_bad_citizen_id_and_phone_are_refused_with_clear_messages(client):
    user = citizen()
    client.force_login(user)
    page = client.post(
        reverse("profile"), profile_data(user, id_number="12345", phone="12345")
    ).content.decode()
    assert "Số CCCD phải gồm đúng 12 chữ số." in page
    assert "Hãy nhập số điện thoại Việt Nam" in page
    assert 'href="#id_id_number"' in page and 'href="#id_phone"' in page
    assert Profile.objects.get(user=user).id_number == ""


def test_the_profile_form_labels_every_field(client):
    client.force_login(citizen())
    page = client.get(reverse("profile")).content.decode()
    inputs = _inputs(page)
    assert {"full_name", "id_number", "phone", "address", "email"} <= set(inputs)
    for name, input_id in inputs.items():
        assert f'<label for="{input_id}"' in page, name


def test_changing_the_email_unverifies_it_and_sends_a_new_link(client):
    user = citizen("an@example.com")
    verify_email(token=email_verification_token(user))
    client.force_login(user)

    refused = client.post(reverse("profile"), profile_data(user, email="an.moi@example.com"))
    assert vi("Enter your current password to confirm this change.") in refused.content.decode()

    response = client.post(
        reverse("profile"),
        profile_data(user, email="An.Moi@Example.com", current_password=PASSWORD),
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.username, user.email) == ("an.moi@example.com", "an.moi@example.com")
    assert user.profile.email_verified_at is None
    assert verification_messages(user)[-1].recipient == "an.moi@example.com"
    notice = OutboxMessage.objects.get(key__startswith=f"email-changed:{user.pk}:")
    assert notice.recipient == "an@example.com"
    page = client.get(reverse("profile")).content.decode()
    assert vi("Not confirmed yet") in page
    assert f'action="{reverse("resend-verification")}"' in page
    # The new address logs in; the old one no longer does.
    assert authenticate(username="an.moi@example.com", password=PASSWORD) == user
    assert authenticate(username="an@example.com", password=PASSWORD) is None


def test_an_unconfirmed_address_is_not_told_of_the_change():
    user = citizen("an@example.com")
    update_profile(user=user, email="an.moi@example.com")
    assert not OutboxMessage.objects.filter(key__startswith="email-changed:").exists()
    assert verification_messages(user)[-1].recipient == "an.moi@example.com"


def test_an_email_of_another_account_is_refused_in_the_profile(client):
    citizen("binh@example.com")
    user = citizen("0912345678")
    client.force_login(user)
    page = client.post(
        reverse("profile"), profile_data(user, email="BINH@example.com", current_password=PASSWORD)
    ).content.decode()
    assert vi("Another account already uses this e-mail address.") in page
    user.refresh_from_db()
    assert user.email == ""


def test_a_phone_account_adds_an_email_and_keeps_logging_in_by_phone(client):
    user = citizen("0912345678")
    client.force_login(user)
    client.post(
        reverse("profile"), profile_data(user, email="an@example.com", current_password=PASSWORD)
    )
    user.refresh_from_db()
    assert (user.username, user.email) == ("0912345678", "an@example.com")
    assert len(verification_messages(user)) == 1
    assert authenticate(username="0912 345 678", password=PASSWORD) == user
    assert authenticate(username="an@example.com", password=PASSWORD) == user


def test_a_phone_account_moves_its_login_to_the_new_number(client):
    user = citizen("0912345678")
    client.force_login(user)
    client.post(
        reverse("profile"), profile_data(user, phone="0987 654 321", current_password=PASSWORD)
    )
    user.refresh_from_db()
    assert user.username == "0987654321"
    assert authenticate(username="0987654321", password=PASSWORD) == user
    page = client.post(reverse("profile"), profile_data(user, phone="")).content.decode()
    assert "Trường này là bắt buộc." in page


def test_a_phone_account_cannot_take_a_number_another_account_logs_in_with():
    citizen("0987654321")
    user = citizen("0912345678")
    with pytest.raises(ValidationError) as caught:
        update_profile(user=user, phone="0987654321")
    assert set(caught.value.error_dict) == {"phone"}


def test_update_profile_rejects_unknown_fields():
    with pytest.raises(TypeError):
        update_profile(user=citizen(), is_staff=True)


def test_staff_without_a_profile_can_open_and_save_theirs(client):
    tree = unit_tree()
    staff = MembershipFactory(
        unit=tree["commune"], role=Role.MANAGER, user__first_name="Hoa", user__last_name="Trần"
    ).user
    client.force_login(staff)
    page = client.get(reverse("profile")).content.decode()
    assert 'value="Trần Hoa"' in page
    assert f'href="{reverse("account")}"' in page
    response = client.post(reverse("profile"), profile_data_for_new(staff, address="UBND xã A1"))
    assert response.status_code == 302
    assert Profile.objects.get(user=staff).address == "UBND xã A1"
    assert User.objects.get(pk=staff.pk).username == staff.username


def profile_data_for_new(user, **changes) -> dict:
    data = {
        "full_name": f"{user.last_name} {user.first_name}",
        "id_number": "",
        "phone": "",
        "address": "",
        "email": user.email,
        "current_password": "",
    }
    data.update(changes)
    return data


# --- Header -----------------------------------------------------------------------------------


def test_the_header_offers_login_and_registration_to_visitors(client):
    page = client.get("/").content.decode()
    assert f'href="{reverse("register")}"' in page
    assert f"{reverse('login')}?next=" in page


def test_the_header_links_staff_to_their_roles_and_citizens_to_their_profile(client):
    tree = unit_tree()
    staff = MembershipFactory(unit=tree["commune"], role=Role.MANAGER).user
    client.force_login(staff)
    assert f'class="account-link" href="{reverse("account")}"' in client.get("/").content.decode()
    client.force_login(citizen())
    page = client.get("/").content.decode()
    assert f'class="account-link" href="{reverse("profile")}">{NAME}<' in page
    assert f'href="{reverse("register")}"' not in page


# --- Password reset ---------------------------------------------------------------------------


def reset_link() -> str:
    [message] = mail.outbox
    match = re.search(r"http://testserver(/password-reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_password_reset_by_email_sets_a_new_password(client):
    user = citizen("an@example.com")
    response = client.post(reverse("password_reset"), {"email": "AN@example.com"})
    assert response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["an@example.com"]
    assert "Đặt lại mật khẩu" in mail.outbox[0].subject
    assert "an@example.com" in mail.outbox[0].body  # the username, in case it was forgotten

    form_page = client.get(reset_link(), follow=True)
    assert form_page.status_code == 200
    assert "new_password1" in form_page.content.decode()
    new_password = "Mua-xuan-2027"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.url == reverse("password_reset_complete")
    assert authenticate(username="an@example.com", password=new_password) == user
    assert authenticate(username="an@example.com", password=PASSWORD) is None

    used = client.get(reset_link(), follow=True).content.decode()
    assert vi("This link cannot be used") in used


def test_password_reset_refuses_a_weak_new_password_in_vietnamese(client):
    citizen("an@example.com")
    client.post(reverse("password_reset"), {"email": "an@example.com"})
    form_page = client.get(reset_link(), follow=True)
    page = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "password123", "new_password2": "password123"},
    ).content.decode()
    assert "Mật khẩu này quá phổ biến." in page


def test_password_reset_says_the_same_for_an_unknown_address(client):
    citizen("0912345678")
    response = client.post(reverse("password_reset"), {"email": "ai@example.com"})
    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []
    page = client.get(response.url).content.decode()
    assert "Chúng tôi đã gửi cho bạn hướng dẫn" in page


def test_password_reset_pages_use_the_site_shell(client):
    page = client.get(reverse("password_reset")).content.decode()
    assert 'class="site-header"' in page and 'class="stacked-form"' in page
    assert '<label for="id_email"' in page


# --- Helpers ----------------------------------------------------------------------------------


class _InputCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag not in {"input", "select", "textarea"} or not attributes.get("id"):
            return
        if attributes.get("type") not in {"hidden", "submit"} and attributes.get("name"):
            self.inputs[attributes["name"]] = attributes["id"]


def _inputs(page: str) -> dict[str, str]:
    """The named inputs of the page's main content, by name: their ids."""
    collector = _InputCollector()
    collector.feed(page.split('id="main"', 1)[1])
    return collector.inputs
