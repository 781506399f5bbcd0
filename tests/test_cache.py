"""The shared cache fails open: with Redis gone, logins, the public lookup and API intake go
on (the lockout and rate-limit counters are skipped, with a warning), and no request waits
longer than the cache's socket timeout."""

from __future__ import annotations

import logging
import socket
import time

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from dossiers.tests.factories import office, received
from dossiers.tests.test_api import _intake
from portal.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fail_open(location: str) -> dict:
    return {
        "default": {
            "BACKEND": "portal.cache.FailOpenRedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.3},
        }
    }


@pytest.fixture
def redis_gone(settings):
    settings.CACHES = _fail_open(f"redis://127.0.0.1:{_closed_port()}/0")
    yield
    cache.close()


def test_logins_lookups_and_api_intake_go_on_without_redis(redis_gone, client, caplog, settings):
    settings.LOOKUP_RATE_LIMIT = 2
    UserFactory(username="canbo")
    caplog.set_level(logging.WARNING, logger="portal.cache")
    started = time.monotonic()
    login = client.post("/login/", {"username": "canbo", "password": PASSWORD})
    assert login.status_code == 302  # logged in
    o = office()
    dossier = received(o)
    params = {"code": dossier.code, "phone": "0912345678"}
    assert [client.get("/lookup/", params).status_code for _ in range(4)] == [200] * 4
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=o.counter).key}")
    assert api.post("/api/v1/dossiers/", _intake(o), format="json").status_code == 201
    assert "going on without it" in caplog.text
    assert time.monotonic() - started < 30  # each cache call gave up after its timeout


def test_with_redis_up_the_counters_count(settings, redis_url, client):
    settings.CACHES = _fail_open(redis_url)
    cache.clear()
    try:
        settings.LOOKUP_RATE_LIMIT = 2
        dossier = received(office())
        params = {"code": dossier.code, "phone": "0912345678"}
        assert [client.get("/lookup/", params).status_code for _ in range(3)] == [200, 200, 429]
    finally:
        cache.clear()
        cache.close()


def test_with_redis_a_hit_is_counted_in_one_round_trip_with_its_window(settings, redis_url):
    from portal.ratelimit import hit

    settings.CACHES = _fail_open(redis_url)
    cache.clear()
    try:
        first = hit("test", "10.0.0.1", limit=2, window_seconds=60)
        assert (first.allowed, first.count) == (True, 1)
        assert 58 <= first.retry_after <= 61  # the window opened by this hit
        assert hit("test", "10.0.0.1", limit=2, window_seconds=60).allowed
        third = hit("test", "10.0.0.1", limit=2, window_seconds=60)
        assert (third.allowed, third.count) == (False, 3)
        assert third.retry_after <= first.retry_after  # the same window, not a new one
        assert hit("test", "10.0.0.2", limit=2, window_seconds=60).count == 1  # per client
        assert hit("short", "10.0.0.1", limit=1, window_seconds=1).allowed
        assert not hit("short", "10.0.0.1", limit=1, window_seconds=1).allowed
        time.sleep(1.2)
        assert hit("short", "10.0.0.1", limit=1, window_seconds=1).count == 1  # a new window
        # A restarted Redis has forgotten the counting script: it is sent again.
        cache._cache.get_client(None, write=True).script_flush()
        assert hit("test", "10.0.0.2", limit=2, window_seconds=60).count == 2
    finally:
        cache.clear()
        cache.close()


def test_commands_are_packed_as_redis_py_packs_them():
    from redis.connection import Encoder, PythonRespSerializer

    from portal.cache import packed

    args = (b"EVALSHA", "a" * 40, 3, ":1:lookup:ab", "x", b"\x80\x05bin\r\n", 600, 12.5, "đổi")
    serializer = PythonRespSerializer(6000, Encoder("utf-8", "strict", False).encode)
    assert packed(*args) == b"".join(serializer.pack(*args))


def test_the_scripts_survive_a_redis_that_forgot_them_and_a_dropped_connection(redis_cache):
    assert cache.count_in_window("k", 60)[0] == 1
    redis_cache.script_flush()  # as after a restart: Redis knows no script
    assert cache.count_in_window("k", 60)[0] == 2
    redis_cache.client_kill_filter(_type="normal", skipme=True)  # the pooled connection drops
    count, left = cache.count_in_window("k", 60)
    assert count == 3 and 0 < left <= 60
