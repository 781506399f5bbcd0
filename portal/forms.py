from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
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
