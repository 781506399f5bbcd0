"""Settings every test runs with, whatever the environment says."""

import pytest


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    # Templates render {% static %} without a collectstatic manifest; files come from finders.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "vi"
    # Hashing passwords for real takes a third of a second per user: not what tests test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Lockout and rate-limit counters live in the cache: each test starts with none.
    from django.core.cache import cache

    cache.clear()
    # What a process keeps of the catalogue came from an earlier test's (rolled back) rows.
    from procedures.catalogue_cache import forget

    forget()
