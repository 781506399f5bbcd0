"""The minimal view bench/load.py compares the public lookup with is routed only when the
benchmark asks for it (BENCH_MINIMAL_VIEW=1), never in production."""

import importlib

import pytest
from django.urls import clear_url_caches

import portal.urls


@pytest.fixture
def reload_urls(monkeypatch):
    yield
    monkeypatch.delenv("BENCH_MINIMAL_VIEW", raising=False)  # the other tests' URLs after
    importlib.reload(portal.urls)
    clear_url_caches()


def _routed(monkeypatch, flag: str | None) -> bool:
    if flag is None:
        monkeypatch.delenv("BENCH_MINIMAL_VIEW", raising=False)
    else:
        monkeypatch.setenv("BENCH_MINIMAL_VIEW", flag)
    importlib.reload(portal.urls)
    clear_url_caches()
    return any(str(p.pattern) == "bench/minimal/" for p in portal.urls.urlpatterns)


def test_the_minimal_view_is_not_routed_without_the_flag(monkeypatch, reload_urls):
    assert not _routed(monkeypatch, None)
    assert not _routed(monkeypatch, "0")


def test_the_flag_routes_the_minimal_view_that_answers_ok(monkeypatch, reload_urls, client):
    assert _routed(monkeypatch, "1")
    response = client.get("/bench/minimal/")
    assert response.status_code == 200
    assert response.content == b"ok"
