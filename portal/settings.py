"""Settings, all of them read from the environment (see .env.example).

The defaults run everything on one laptop: a SQLite file and Celery's filesystem broker in
``var/``. Production sets DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis).
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    """An environment variable; an empty value counts as unset (blank lines in .env files)."""
    return os.environ.get(name) or str(default)


def _read_env_file(path: Path) -> None:
    """Load KEY=VALUE lines of a local .env into the environment; real variables win."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        if not os.environ.get(key.strip()):
            os.environ[key.strip()] = value.strip().strip("\"'")


_read_env_file(Path(os.environ.get("ENV_FILE") or BASE_DIR / ".env"))

VAR_DIR = Path(env("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment, or DEBUG=1 for development."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "portal",
    "procedures",
    "dossiers",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.security.SecurityHeadersMiddleware",  # CSP and more, static files included
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.middleware.DatabaseUnavailableMiddleware",  # lost database: 503, not a traceback
]

ROOT_URLCONF = "portal.urls"

# "i18n" names two tag libraries on purpose (TEMPLATES): checked by a test for that name only.
SILENCED_SYSTEM_CHECKS = ["templates.W003"]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
            # {% load i18n %}: Django's library, its {% translate "…" %} kept rendered. The
            # check that warns of a library name used twice (templates.W003) is silenced for
            # this one name by a test of its own (portal/tests/test_kept_i18n.py).
            "libraries": {"i18n": "portal.templatetags.kept_i18n"},
        },
    },
]

# Django's form renderer with inputs, selects and text areas written in Python (same markup).
FORM_RENDERER = "portal.renderers.PortalFormRenderer"

WSGI_APPLICATION = "portal.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file in development: wait for locks, don't fail.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# A streaming replica of the primary for the reports and dashboards (docs/scaling.md): only the
# reads that ask for it with portal.db.reporting_alias() go there; writes and migrations never
# do (portal.dbrouters). Under a test runner it mirrors the test database; the suite itself runs
# without it (tests/test_replica_router.py adds its own).
if env("REPORTS_DATABASE_URL"):
    DATABASES["reports"] = dj_database_url.parse(
        env("REPORTS_DATABASE_URL"), conn_max_age=int(env("DB_CONN_MAX_AGE", "60"))
    )
    DATABASES["reports"]["TEST"] = {"MIRROR": "default"}
    if DATABASES["reports"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["reports"]["OPTIONS"] = {"timeout": 20}
        DATABASES["reports"]["CONN_MAX_AGE"] = 0
DATABASE_ROUTERS = ["portal.dbrouters.ReportsReplicaRouter"]
# PostgreSQL's JIT compiles any plan estimated above ~100,000 rows of cost: on the worklist's
# queries at province scale that took 80–90 ms to save nothing (docs/benchmarks.md). Off for
# the portal's connections unless DATABASE_JIT=1.
if not env_bool("DATABASE_JIT", False):
    for _database in DATABASES.values():
        if _database["ENGINE"].startswith("django.db.backends.postgresql"):
            _options = _database.setdefault("OPTIONS", {})
            _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# Citizens log in with their e-mail address or phone number, staff with their username. The
# lockout comes first: it refuses a paused account or address before a password is checked.
AUTHENTICATION_BACKENDS = [
    "portal.security.LoginLockoutBackend",
    "portal.auth_backends.EmailOrPhoneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# How long, in seconds, a password reset link and an e-mail verification link work.
PASSWORD_RESET_TIMEOUT = int(env("PASSWORD_RESET_TIMEOUT", str(24 * 3600)))
ACCOUNT_VERIFY_MAX_AGE = int(env("ACCOUNT_VERIFY_MAX_AGE", str(3 * 24 * 3600)))

# Language, time and formats: Vietnamese first, English second.
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["portal.formats"]
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploaded documents live outside the static files and are never served directly: only the
# dossier views hand them out, to users who may see the dossier.
MEDIA_ROOT = Path(env("MEDIA_ROOT", VAR_DIR / "media"))
ATTACHMENT_MAX_BYTES = int(env("ATTACHMENT_MAX_MB", "10")) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# E-mail
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = float(env("EMAIL_TIMEOUT", "15"))  # a hung SMTP server must not hold a worker
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Một Cửa <no-reply@localhost>")

# SMS: console or file in development, an HTTP gateway in production.
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL")
SMS_BACKEND = env("SMS_BACKEND", "http" if SMS_GATEWAY_URL else ("console" if DEBUG else "file"))
SMS_FILE = env("SMS_FILE", str(VAR_DIR / "sms.jsonl"))
SMS_GATEWAY_TOKEN = env("SMS_GATEWAY_TOKEN")
SMS_SENDER = env("SMS_SENDER", "MOTCUA")
SMS_GATEWAY_TIMEOUT = float(env("SMS_GATEWAY_TIMEOUT", "10"))
OUTBOX_MAX_ATTEMPTS = int(env("OUTBOX_MAX_ATTEMPTS", "10"))
# How long a delivery run holds a message it is about to send before another run may take it
# (the holder died). Renewed before each send, so it must only outlast one send: longer than
# SMS_GATEWAY_TIMEOUT and EMAIL_TIMEOUT (checked at start); shorter recovers a dead worker's
# messages sooner.
OUTBOX_LEASE_SECONDS = int(env("OUTBOX_LEASE_SECONDS", "300"))
# Deadline worker: warn when less than this much working time is left.
DUE_SOON_WORKING_HOURS = float(env("DUE_SOON_WORKING_HOURS", "8"))

# Celery: an embedded filesystem broker by default, Redis in production.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # The exchange tables (one file per queue's exchange), else ./control in the checkout.
        "control_folder": str(_broker_dir / "control"),
    }
if env("CELERY_VISIBILITY_TIMEOUT"):
    # Redis: seconds before a task taken by a worker that died unacknowledged (killed, lost power)
    # goes to another worker (kombu's default: an hour). Must exceed the longest task's run.
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = int(env("CELERY_VISIBILITY_TIMEOUT"))
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Queues (portal.queues, docs/scaling.md): notifications, deadlines (sweep, period closing), bulk
# (long jobs) and the default queue, so that a long sweep never delays a notification.
CELERY_TASK_ROUTES = ("portal.queues.route_task",)
# The one beat schedule. Each interval is configurable from the environment.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "portal.tasks.heartbeat_task",
        "schedule": float(env("HEARTBEAT_INTERVAL_SECONDS", "60")),
    },
    "sweep-deadlines": {
        "task": "dossiers.tasks.sweep_deadlines_task",
        "schedule": float(env("SWEEP_INTERVAL_SECONDS", "300")),
    },
    "deliver-outbox": {
        "task": "portal.tasks.deliver_outbox_task",
        "schedule": float(env("OUTBOX_INTERVAL_SECONDS", "30")),
    },
    "seed-holidays": {
        "task": "procedures.tasks.seed_holidays_task",
        "schedule": float(env("SEED_HOLIDAYS_INTERVAL_SECONDS", str(24 * 3600))),
    },
    "close-periods": {
        "task": "reports.tasks.close_periods_task",
        "schedule": float(env("CLOSE_PERIODS_INTERVAL_SECONDS", "3600")),
    },
    "purge-access-log": {
        "task": "dossiers.tasks.purge_access_log_task",
        "schedule": crontab(hour=env("ACCESS_LOG_PURGE_HOUR", "2"), minute="15"),
    },
    "purge-outbox": {
        "task": "portal.tasks.purge_outbox_task",
        "schedule": crontab(hour=env("OUTBOX_PURGE_HOUR", "2"), minute="45"),
    },
    "manager-digest": {
        "task": "dossiers.tasks.send_manager_digest_task",
        "schedule": crontab(hour=env("DIGEST_HOUR", "7"), minute=env("DIGEST_MINUTE", "30")),
    },
}

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "portal.api.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.PortalPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.errors.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "COERCE_DECIMAL_TO_STRING": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Một Cửa API",
    "DESCRIPTION": "API of the one-stop administrative service counter portal.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from the app's own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "UnitLevelEnum": "portal.choices.UnitLevel",
        "ProcedureLevelEnum": "procedures.choices.ProcedureLevel",
        "DossierStatusEnum": "dossiers.choices.Status",
        "TimelinessEnum": "dossiers.choices.Timeliness",
        "DossierActionEnum": "dossiers.choices.Action",
        "AttachmentKindEnum": "dossiers.choices.AttachmentKind",
        "ChannelEnum": "dossiers.choices.Channel",
    },
}

# Reports: closed periods ended within this many months are recounted on every view to list
# their corrections; older ones on request (their snapshot is read at once).
REPORT_LIVE_CORRECTIONS_MONTHS = int(env("REPORT_LIVE_CORRECTIONS_MONTHS", "3"))

# Public lookup: requests per client per 10 minutes.
LOOKUP_RATE_LIMIT = int(env("LOOKUP_RATE_LIMIT", "30"))

# The cache holds the rate-limit and login-lockout counters: it must be shared (Redis,
# CACHE_URL) when several processes serve the site (`check --deploy` warns, portal.W001).
# Redis down: the counters are skipped with a warning, the site goes on (portal.cache).
CACHE_TIMEOUT_SECONDS = float(env("CACHE_TIMEOUT_SECONDS", "0.5"))
# Each process keeps the catalogue it reads (procedures, units, documents, calendar days),
# checked against a token in the shared cache that every change replaces; kept at most this
# long (a change made outside the portal shows within it). 0, or no shared cache: not kept.
CATALOGUE_CACHE_SECONDS = float(env("CATALOGUE_CACHE_SECONDS", "60"))
# The public lookup's answers are kept in the shared cache (dossiers.lookup_cache), forgotten
# when their dossier changes; kept at most this long. 0, or no shared cache: not kept.
LOOKUP_CACHE_SECONDS = int(env("LOOKUP_CACHE_SECONDS", "300"))
# The lookup page's HTML is rendered once per process and shape, with holes for the request's
# values (portal.kept_pages), for visitors not signed in. Off: every page rendered in full.
KEPT_PAGES = env_bool("KEPT_PAGES", True)
CACHES = {
    "default": (
        {
            "BACKEND": "portal.cache.FailOpenRedisCache",
            "LOCATION": env("CACHE_URL"),
            "OPTIONS": {
                "socket_connect_timeout": CACHE_TIMEOUT_SECONDS,
                "socket_timeout": CACHE_TIMEOUT_SECONDS,
            },
        }
        if env("CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Working calendar: the years of public holidays kept seeded around today.
HOLIDAY_SEED_YEARS_BACK = int(env("HOLIDAY_SEED_YEARS_BACK", "5"))
HOLIDAY_SEED_YEARS_AHEAD = int(env("HOLIDAY_SEED_YEARS_AHEAD", "1"))

# --- Security (docs/security.md) ---------------------------------------------------------------

# Reverse proxies in front of gunicorn that append the client's address to X-Forwarded-For
# (nginx: proxy_add_x_forwarded_for). Rate limits and lockouts count per client address: with
# 1, the address the proxy saw; with 0 (gunicorn reached directly), REMOTE_ADDR and the header
# is ignored, since a client can write anything in it.
NUM_PROXIES = int(env("NUM_PROXIES", "1"))
REST_FRAMEWORK["NUM_PROXIES"] = NUM_PROXIES  # DRF's throttles (API lookup) count alike

# Login lockout (portal.security): an account is paused after LOGIN_MAX_FAILURES failed logins
# within LOGIN_LOCKOUT_SECONDS, an address after LOGIN_MAX_FAILURES_PER_ADDRESS, each for
# LOGIN_LOCKOUT_SECONDS. Login attempts of an address are also limited per 10 minutes.
LOGIN_MAX_FAILURES = int(env("LOGIN_MAX_FAILURES", "5"))
LOGIN_MAX_FAILURES_PER_ADDRESS = int(env("LOGIN_MAX_FAILURES_PER_ADDRESS", "20"))
LOGIN_LOCKOUT_SECONDS = int(env("LOGIN_LOCKOUT_SECONDS", "900"))
LOGIN_RATE_LIMIT = int(env("LOGIN_RATE_LIMIT", "60"))
# Registrations and password reset requests per address per 10 minutes; reset e-mails per
# address (the one typed in) per hour.
REGISTER_RATE_LIMIT = int(env("REGISTER_RATE_LIMIT", "10"))
PASSWORD_RESET_RATE_LIMIT = int(env("PASSWORD_RESET_RATE_LIMIT", "10"))
PASSWORD_RESET_EMAIL_LIMIT = int(env("PASSWORD_RESET_EMAIL_LIMIT", "3"))

# Content-Security-Policy-Report-Only instead of enforcing the policy (to try a change).
CSP_REPORT_ONLY = env_bool("CSP_REPORT_ONLY", False)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# The CSRF cookie stays readable by scripts (Swagger UI sends it back); SameSite and the token
# check protect it.
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # The proxy terminating TLS says so in X-Forwarded-Proto (and must overwrite what a client
    # sent). Django then redirects http:// to https:// itself, except the container's health
    # check; turn it off only when the proxy already redirects every http:// request.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    # HSTS: browsers keep to https:// for this long after a visit (0 turns it off). Subdomains
    # (every host under the portal's own name) and the browsers' preload list are opt-in: both
    # are hard to take back, and a host under that name may not be ready for HTTPS only.
    # Django's deploy checks for them (W005, W021) are silenced until they are turned on.
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SILENCED_SYSTEM_CHECKS = [
        *SILENCED_SYSTEM_CHECKS,
        *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
        *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
    ]

# Every handler carries the personal-data filter: citizen ID and phone numbers never reach a log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"personal_data": {"()": "portal.logfilters.PersonalDataFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}
DEFAULT_EXCEPTION_REPORTER_FILTER = "portal.logfilters.PersonalDataExceptionReporterFilter"
# Access log: rows older than this many days are deleted (dossiers.tasks.purge_access_log_task).
ACCESS_LOG_RETENTION_DAYS = int(env("ACCESS_LOG_RETENTION_DAYS", "730"))
# Outbox: messages sent or given up are deleted this many days after they were queued
# (portal.tasks.purge_outbox_task); their recipient and text are personal data.
OUTBOX_RETENTION_DAYS = int(env("OUTBOX_RETENTION_DAYS", "90"))
