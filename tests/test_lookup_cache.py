"""The public lookup's answers kept in Redis (dossiers.lookup_cache): a repeated lookup reads
no PostgreSQL, answers exactly as a fresh read would, and never shows what a committed change
replaced — on a real Redis, as in production."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from dossiers import services
from dossiers.lookup_cache import LEASE_SECONDS, _entry, forget_lookups
from dossiers.tests.factories import office, received
from procedures import catalogue_cache
from procedures.catalogue_cache import VERSION_KEY

pytestmark = pytest.mark.django_db

API = "/api/v1/public/lookup/"
PHONE = "0912345678"


@pytest.fixture
def shared_cache(settings, redis_cache):
    """The production cache on the tests' Redis (a prefix of this test's own), answers kept."""
    settings.LOOKUP_CACHE_SECONDS = 300
    catalogue_cache.forget()
    yield redis_cache
    catalogue_cache.forget()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the block wrote as if its transaction committed (the test's never does)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def o(shared_cache, committed):
    with committed():
        return office()


def _lookup(client, code, phone=PHONE, **extra):
    return client.get(API, {"code": code, "phone": phone}, **extra)


def test_a_repeated_lookup_reads_no_database_and_answers_the_same(
    o, client, settings, committed, django_assert_num_queries
):
    with committed():
        dossier = received(o)
    with django_assert_num_queries(1):
        first = _lookup(client, dossier.code)
    with django_assert_num_queries(0):
        again = _lookup(client, f" {dossier.code} ", phone="+84 912 345 678")
        page = client.get("/lookup/", {"code": dossier.code, "phone": PHONE})
    settings.LOOKUP_CACHE_SECONDS = 0
    with django_assert_num_queries(1):
        fresh = _lookup(client, dossier.code)
    assert first.status_code == again.status_code == fresh.status_code == 200
    assert first.json() == again.json() == fresh.json()
    assert first.json()["procedure"]["name"] == o.procedure.name
    assert o.procedure.name in page.content.decode()


def test_each_state_answers_as_a_fresh_read(o, client, settings, committed):
    """Dates, pauses, promised dates and a closed dossier's timeliness survive the cache."""
    with committed():
        paused = received(o)
        services.start_processing(dossier=paused, by=o.officer)
        services.request_supplement(
            dossier=paused, by=o.officer, missing="Bản sao giấy tờ", reason="Thiếu bản sao"
        )
        resolved = received(o)
        services.start_processing(dossier=resolved, by=o.officer)
        services.resolve_dossier(dossier=resolved, by=o.officer, result="QĐ 12/QĐ-UBND")
        services.return_result(dossier=resolved, by=o.counter)
        waiting = received(o)
    for dossier in (paused, resolved, waiting):
        settings.LOOKUP_CACHE_SECONDS = 0
        fresh = _lookup(client, dossier.code).json()
        settings.LOOKUP_CACHE_SECONDS = 300
        assert _lookup(client, dossier.code).json() == fresh  # read, then kept
        assert _lookup(client, dossier.code).json() == fresh  # from the cache
    assert fresh["status"] == "received"
    assert _lookup(client, resolved.code).json()["returned_at"] is not None


def test_the_phone_is_checked_on_every_lookup_and_never_kept(o, client, shared_cache):
    dossier = received(o)
    assert _lookup(client, dossier.code).status_code == 200  # now kept
    assert _lookup(client, dossier.code, phone="0987654321").status_code == 404
    assert _lookup(client, dossier.code, phone="12345678").status_code == 404  # 8 digits
    assert _lookup(client, dossier.code, phone="912345678").status_code == 200
    page = client.get("/lookup/", {"code": dossier.code, "phone": "0987654321"})
    assert "Không tìm thấy hồ sơ" in page.content.decode()
    keys = list(shared_cache.scan_iter(cache.make_key("lookup:*")))
    kept = b"".join(shared_cache.hget(key, "a") or b"" for key in keys)
    assert dossier.code.encode() in kept  # the answer is there …
    for text in [*keys, kept]:  # … but neither the phone nor the code in its key
        assert b"912345678" not in text and b"0912" not in text
    assert not any(dossier.code.encode() in key for key in keys)


def test_a_new_secret_key_only_misses(o, client, settings, django_assert_num_queries):
    dossier = received(o)
    assert _lookup(client, dossier.code).status_code == 200  # kept under the old key
    settings.SECRET_KEY = "a new secret key for the rotation, long enough to be a real one"
    with django_assert_num_queries(1):
        assert _lookup(client, dossier.code).json()["code"] == dossier.code
    with django_assert_num_queries(0):
        assert _lookup(client, dossier.code).json()["code"] == dossier.code


def test_a_committed_change_shows_at_once(o, client, committed, django_assert_num_queries):
    dossier = received(o)
    assert _lookup(client, dossier.code).json()["status"] == "received"
    with committed():
        services.start_processing(dossier=dossier, by=o.officer)
    with django_assert_num_queries(1):  # forgotten: read again
        assert _lookup(client, dossier.code).json()["status"] == "in_progress"


def test_the_answer_is_forgotten_when_the_change_commits_not_before(o, client, committed):
    dossier = received(o)
    assert _lookup(client, dossier.code).json()["status"] == "received"
    with committed():
        services.start_processing(dossier=dossier, by=o.officer)
        # Still in its transaction: the kept answer is the committed one.
        assert _lookup(client, dossier.code).json()["status"] == "received"
    assert _lookup(client, dossier.code).json()["status"] == "in_progress"


def test_a_reader_older_than_a_change_does_not_keep_its_row(o, shared_cache):
    """A reader takes the lease before PostgreSQL; a change committing meanwhile forgets the
    lease, so the reader's row (read before the change) is not kept."""
    dossier = received(o)
    entry = _entry(dossier.code, "912345678")
    miss = cache.count_and_read(
        "c1", 600, 30, entry=entry, version_key=VERSION_KEY, lease="L1", lease_seconds=5
    )
    assert miss.answer is None and miss.lease == "L1"
    other = cache.count_and_read(
        "c2", 600, 30, entry=entry, version_key=VERSION_KEY, lease="L2", lease_seconds=5
    )
    assert other.answer is None and other.lease is None  # one reader writes, not two
    forget_lookups([(dossier.code, dossier.applicant_phone)])  # the change committed
    kept = cache.fill(entry, lease="L1", version=miss.version, answer=b"{}", timeout=300)
    assert kept is False
    after = cache.count_and_read(
        "c1", 600, 30, entry=entry, version_key=VERSION_KEY, lease="L3", lease_seconds=5
    )
    assert after.answer is None and after.lease == "L3"
    assert cache.fill(entry, lease="L3", version=after.version, answer=b"{}", timeout=300)
    found = cache.count_and_read(
        "c1", 600, 30, entry=entry, version_key=VERSION_KEY, lease="L4", lease_seconds=5
    )
    assert found.answer == b"{}" and found.count == 3
    assert 0 < shared_cache.pttl(cache.make_key(entry)) <= 300_000
    assert LEASE_SECONDS <= 10


def test_a_renamed_procedure_shows_under_its_new_name(o, client, committed):
    dossier = received(o)
    assert _lookup(client, dossier.code).json()["procedure"]["name"] == o.procedure.name
    with committed():
        o.procedure.name = "Cấp giấy phép xây dựng (tên mới)"
        o.procedure.save()
    body = _lookup(client, dossier.code).json()
    assert body["procedure"]["name"] == "Cấp giấy phép xây dựng (tên mới)"


def test_an_unknown_code_is_not_kept(o, client, shared_cache):
    assert _lookup(client, "000.00.15.H61-991231-9999").status_code == 404
    keys = shared_cache.scan_iter(cache.make_key("lookup:*"))
    entries = [shared_cache.hgetall(key) for key in keys]
    assert all(b"a" not in entry for entry in entries)  # at most a lease, never an answer


def test_an_open_dossier_turns_overdue_in_the_kept_answer(
    o, client, monkeypatch, django_assert_num_queries
):
    """The sweep forgets nothing: an open dossier's timeliness is worked out at each lookup
    from its kept due date."""
    dossier = received(o)
    assert _lookup(client, dossier.code).json()["timeliness"] == "in_time"
    later = dossier.due_at + timedelta(hours=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    with django_assert_num_queries(0):
        assert _lookup(client, dossier.code).json()["timeliness"] == "overdue"


def test_the_rate_limit_counts_in_the_same_round_trip(o, client, settings):
    settings.LOOKUP_RATE_LIMIT = 2
    dossier = received(o)
    answers = [_lookup(client, dossier.code) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 1 <= int(answers[2]["Retry-After"]) <= 600
    pages = [client.get("/lookup/", {"code": dossier.code, "phone": PHONE}) for _ in range(3)]
    assert [p.status_code for p in pages] == [200, 200, 429]  # a budget of its own
    assert _lookup(client, dossier.code, REMOTE_ADDR="10.9.8.7").status_code == 200
