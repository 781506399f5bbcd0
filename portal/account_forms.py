"""Forms of citizen accounts: registration, profile, password reset."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .auth_backends import (
    EMAIL,
    PHONE,
    canonical_phone,
    identifier_taken,
    parse_identifier,
    taken_message,
)
from .validators import clean_citizen_id, phone_validator


class TelInput(forms.TextInput):
    input_type = "tel"


def _password_help_text() -> str:
    """Django's password rules as one sentence each (in the active language), as plain text:
    the site's field template puts help text in a paragraph, where a list cannot go."""
    return " ".join(password_validators_help_texts())


class RegistrationForm(forms.Form):
    identifier = forms.CharField(
        label=_("E-mail or phone number"),
        max_length=254,
        help_text=_(
            "You will log in with it. Write a phone number as you like: 0912 345 678 or "
            "+84 912 345 678."
        ),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "username",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        help_text=_("As written on your citizen ID card."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirm = forms.CharField(
        label=_("Password confirmation"),
        strip=False,
        help_text=_("Enter the same password as before, for verification."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    consent = forms.BooleanField(
        label=_(
            "I have read the notice above and agree to the processing of my personal data "
            "for these purposes."
        ),
        error_messages={
            "required": _(
                "To create an account you need to agree to the processing of your personal data."
            )
        },
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["password"].help_text = _password_help_text()
        if self.is_bound:  # after a failed submit the error summary, not the first field, leads
            self.fields["identifier"].widget.attrs.pop("autofocus", None)
        self.identifier_kind = ""

    def clean_identifier(self) -> str:
        kind, value = parse_identifier(self.cleaned_data["identifier"])
        if identifier_taken(kind=kind, value=value):
            raise ValidationError(taken_message(kind), code="taken")
        self.identifier_kind = kind
        return value

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        password, confirm = cleaned.get("password"), cleaned.get("password_confirm")
        if password and confirm and password != confirm:
            self.add_error(
                "password_confirm",
                ValidationError(
                    SetPasswordForm.error_messages["password_mismatch"], code="password_mismatch"
                ),
            )
        if password:
            # The same rules the service applies, here too so that every mistake shows at once.
            identifier = cleaned.get("identifier", "")
            family, _sep, given = " ".join(cleaned.get("full_name", "").split()).rpartition(" ")
            candidate = get_user_model()(
                username=identifier,
                email=identifier if self.identifier_kind == EMAIL else "",
                first_name=given,
                last_name=family,
            )
            try:
                validate_password(password, candidate)
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class ProfileForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    id_number = forms.CharField(
        label=_("Citizen ID number (CCCD)"),
        required=False,
        max_length=20,
        help_text=_("12 digits, printed on your citizen ID card."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        required=False,
        max_length=20,
        widget=TelInput(attrs={"autocomplete": "tel"}),
    )
    address = forms.CharField(
        label=_("Address"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("A new address has to be confirmed: we send a link to it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    current_password = forms.CharField(
        label=_("Current password"),
        required=False,
        strip=False,
        help_text=_("Needed only when you change your e-mail address."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(
        self, *args: object, user: AbstractUser, sign_in_kind: str | None, **kwargs: object
    ):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.user = user
        self.sign_in_kind = sign_in_kind
        if sign_in_kind == EMAIL:
            self.fields["email"].required = True
        elif sign_in_kind == PHONE:
            self.fields["phone"].required = True
            self.fields["phone"].help_text = _("You log in with this number.")
            self.fields["current_password"].help_text = _(
                "Needed only when you change your e-mail address or phone number."
            )

    def clean_id_number(self) -> str:
        value = self.cleaned_data["id_number"]
        return clean_citizen_id(value) if value.strip() else ""

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        if not value:
            return ""
        value = canonical_phone(value)
        phone_validator(value)
        return value

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        email_changed = "email" in cleaned and cleaned["email"] != self.user.email.lower()
        phone_changed = (
            self.sign_in_kind == PHONE
            and cleaned.get("phone")
            and cleaned["phone"] != self.user.get_username()
        )
        if email_changed or phone_changed:
            password = cleaned.get("current_password", "")
            if not password:
                self.add_error(
                    "current_password",
                    _("Enter your current password to confirm this change."),
                )
            elif not self.user.check_password(password):
                self.add_error("current_password", _("The current password is not correct."))
        return cleaned


class PasswordResetRequestForm(PasswordResetForm):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class NewPasswordForm(SetPasswordForm):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["new_password1"].help_text = _password_help_text()
