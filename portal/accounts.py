"""Citizen accounts: registration, e-mail verification, profile and password reset."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from .account_forms import NewPasswordForm, PasswordResetRequestForm, ProfileForm, RegistrationForm
from .auth_backends import EMAIL, sign_in_kind
from .models import Profile
from .ratelimit import allow, hit, hit_address
from .security import RATE_WINDOW_SECONDS, clock, lift_login_pause, too_many_attempts_message
from .services import (
    EmailVerificationError,
    register_citizen,
    send_verification_email,
    update_profile,
    validity_text,
    verify_email,
)

BACKEND = "portal.auth_backends.EmailOrPhoneBackend"


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _add_errors(form: Form, exc: ValidationError) -> None:
    """Show a service's errors on the form, each under its field when the form has one."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _too_many(request: HttpRequest) -> HttpResponse:
    messages.error(request, _("Too many attempts from your connection. Try again in a while."))
    return redirect(request.path)


def _over_limit(response: HttpResponse, retry_after: int) -> HttpResponse:
    """A form page refused for a rate limit: 429, and when to try again."""
    response.status_code = 429
    response["Retry-After"] = str(retry_after)
    return response


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("profile")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST":
        attempts = hit_address(
            "register",
            request,
            limit=settings.REGISTER_RATE_LIMIT,
            window_seconds=RATE_WINDOW_SECONDS,
        )
        if not attempts.allowed:
            # Not even validated: the form would tell whether the address has an account.
            messages.error(request, too_many_attempts_message(attempts.retry_at))
            typed = {name: request.POST.get(name, "") for name in ("identifier", "full_name")}
            context = {"form": RegistrationForm(initial=typed)}
            page = render(request, "portal/accounts/register.html", context)
            return _over_limit(page, attempts.retry_after)
        if form.is_valid():
            try:
                user = register_citizen(
                    identifier=form.cleaned_data["identifier"],
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password"],
                    site_url=_site_url(request),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                login(request, user, backend=BACKEND)
                if form.identifier_kind == EMAIL:
                    messages.success(
                        request,
                        _(
                            "Your account is ready. We have sent a link to %(email)s: open it "
                            "to confirm your e-mail address."
                        )
                        % {"email": user.email},
                    )
                else:
                    messages.success(
                        request,
                        _(
                            "Your account is ready. Next time, log in with your phone number "
                            "%(phone)s."
                        )
                        % {"phone": user.get_username()},
                    )
                return redirect("profile")
    return render(request, "portal/accounts/register.html", {"form": form})


def _profile_of(user) -> Profile:
    """The user's profile; an unsaved one for accounts made before profiles (staff, demo)."""
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        profile = Profile(user=user, full_name=f"{user.last_name} {user.first_name}".strip())
    return profile


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    current = _profile_of(user)
    kind = sign_in_kind(user)
    initial = {
        "full_name": current.full_name,
        "id_number": current.id_number,
        "phone": current.phone,
        "address": current.address,
        "email": user.email,
    }
    form = ProfileForm(request.POST or None, initial=initial, user=user, sign_in_kind=kind)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in initial}
        try:
            update_profile(user=user, site_url=_site_url(request), **fields)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if fields["email"] and fields["email"] != user.email.lower():
                messages.success(
                    request,
                    _(
                        "Your profile is saved. We have sent a link to %(email)s: open it to "
                        "confirm your new e-mail address."
                    )
                    % {"email": fields["email"]},
                )
            else:
                messages.success(request, _("Your profile is saved."))
            return redirect("profile")
    context = {"form": form, "profile": current, "sign_in_kind": kind}
    return render(request, "portal/accounts/profile.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def resend_verification(request: HttpRequest) -> HttpResponse:
    """The page that sends a new verification link (the profile's "resend" button posts here)."""
    current = _profile_of(request.user)
    if request.method == "POST":
        if not allow("verify-resend", request, limit=5, window_seconds=600):
            return _too_many(request)
        try:
            send_verification_email(user=request.user, site_url=_site_url(request))
        except EmailVerificationError:
            messages.info(request, _("Your e-mail address is already confirmed."))
            return redirect("profile")
        except ValidationError:
            messages.error(request, _("Add an e-mail address to your profile first."))
            return redirect("profile")
        messages.success(
            request,
            _("We have sent a new link to %(email)s. It can take a few minutes to arrive.")
            % {"email": request.user.email},
        )
        return redirect("profile")
    context = {
        "profile": current,
        "valid_for": validity_text(settings.ACCOUNT_VERIFY_MAX_AGE),
    }
    return render(request, "portal/accounts/resend_verification.html", context)


def verify(request: HttpRequest, token: str) -> HttpResponse:
    """Where the link in the verification e-mail leads. No login needed: the link is often
    opened on another device than the one the account was made on."""
    try:
        verify_email(token=token)
    except EmailVerificationError as exc:
        outcome = exc.code
    else:
        outcome = "verified"
    status = 400 if outcome in {"expired", "invalid"} else 200
    return render(request, "portal/accounts/verify_email.html", {"outcome": outcome}, status=status)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with the site's form, limits per connection and per e-mail address (the same
    whether an account has the address or not) and how long the link works."""

    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: PasswordResetRequestForm) -> HttpResponse:
        attempts = hit_address(
            "password-reset",
            self.request,
            limit=settings.PASSWORD_RESET_RATE_LIMIT,
            window_seconds=RATE_WINDOW_SECONDS,
        )
        if not attempts.allowed:
            form.add_error(None, too_many_attempts_message(attempts.retry_at))
            return _over_limit(self.form_invalid(form), attempts.retry_after)
        sent = hit(
            "password-reset-email",
            form.cleaned_data["email"].strip().lower(),
            limit=settings.PASSWORD_RESET_EMAIL_LIMIT,
            window_seconds=3600,
        )
        if not sent.allowed:
            form.add_error(
                None,
                _(
                    "A password reset link was already sent to this e-mail address several "
                    "times. Use the latest one, or ask again after %(time)s."
                )
                % {"time": clock(sent.retry_at)},
            )
            return _over_limit(self.form_invalid(form), sent.retry_after)
        self.extra_email_context = {
            "site_name": gettext_lazy("Một Cửa"),
            "valid_for": validity_text(settings.PASSWORD_RESET_TIMEOUT),
        }
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = NewPasswordForm
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form: NewPasswordForm) -> HttpResponse:
        # The owner proved they hold the e-mail address: a login pause set by someone
        # guessing their password no longer stands in their way.
        lift_login_pause(form.user)
        return super().form_valid(form)
