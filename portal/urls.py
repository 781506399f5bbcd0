import os

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from dossiers import lookup as lookup_views

from . import accounts, operations, views
from .forms import LoginForm
from .security import DEVELOPER_PAGE_CSP, LoginView, csp_override

admin.site.site_header = _("Một Cửa — administration")
admin.site.site_title = _("Một Cửa")
admin.site.index_title = _("Catalogue, units, calendar and accounts")

# Addresses under /api/ that match no route, and unhandled errors there, answer in the API's
# error shape; the site's pages keep their HTML 404 and 500.
handler404 = "portal.api.errors.page_not_found"
handler500 = "portal.api.errors.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("account/", views.account, name="account"),
    path(
        "login/",
        LoginView.as_view(
            template_name="portal/accounts/login.html", authentication_form=LoginForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Citizen accounts
    path("register/", accounts.register, name="register"),
    path("verify-email/<str:token>/", accounts.verify, name="verify-email"),
    path("account/profile/", accounts.profile, name="profile"),
    path("account/verify-email/", accounts.resend_verification, name="resend-verification"),
    path("password-reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("procedures/", include("procedures.urls")),
    path("dossiers/", include("dossiers.urls")),
    path("", include("reports.urls")),
    path("lookup/", lookup_views.lookup, name="lookup"),
    path("ops/", operations.operations, name="operations"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("portal.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI: its start-up script is served as a file (the split view), not inline; its
    # page and widgets carry inline styles, allowed on this page only.
    path(
        "api/docs/",
        csp_override(**DEVELOPER_PAGE_CSP)(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()

if os.environ.get("BENCH_MINIMAL_VIEW") == "1":
    # bench/load.py compares the public lookup with the cheapest Django view on the same server.
    from .bench_views import minimal

    urlpatterns += [path("bench/minimal/", minimal)]
