from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .security import login_refusal


class LoginForm(AuthenticationForm):
    """Django's login form; when the lockout refused the attempt (portal.security), it says so
    and until when, instead of "not correct"."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The username or password is not correct. Both are case-sensitive."),
        "inactive": _("This account is locked."),
    }
    username = forms.CharField(
        # "Username" keeps its translation (browser journeys find the field by it) and the
        # rest is added to it: "Tên đăng nhập, e-mail hoặc số điện thoại".
        label=format_lazy("{}, {}", _("Username"), _("e-mail or phone number")),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def get_invalid_login_error(self) -> ValidationError:
        refusal = login_refusal(self.request)
        if refusal is not None:
            return ValidationError(refusal.message, code=refusal.code)
        return super().get_invalid_login_error()
