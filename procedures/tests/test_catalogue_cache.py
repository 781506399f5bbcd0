"""The catalogue each process keeps (procedures.catalogue_cache): what is kept, and when it is
dropped — a change committed here or in another process, a change still in its transaction or
rolled back, age, a shared cache out of reach."""

from datetime import date, datetime
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import transaction
from rest_framework.test import APIClient

from dossiers.models import Dossier
from dossiers.tests.factories import intake_payload, office
from portal.tests.factories import UnitFactory
from procedures import catalogue_cache
from procedures.catalogue_cache import (
    VERSION_KEY,
    documents_of,
    procedure_by_code,
    unit_by_code,
)
from procedures.choices import CalendarDayKind
from procedures.deadlines import VN_TZ
from procedures.models import CalendarDay, Procedure
from procedures.selectors import procedure_deadline, working_calendar
from procedures.services import add_calendar_day, seed_holidays

from .factories import CalendarDayFactory, DocumentFactory

pytestmark = pytest.mark.django_db


# What Django's request_started and request_finished signals call here (sending the signals
# themselves would also close the test's database connection).
def _request_started():
    catalogue_cache._request_started()


def _request_finished():
    catalogue_cache._request_finished()


MONDAY = date(2031, 3, 3)


@pytest.fixture
def shared(monkeypatch):
    """The cache counts as shared: one test process is one process, so local memory is."""
    monkeypatch.setattr(catalogue_cache, "default_cache_is_shared", lambda: True)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the block wrote as if its transaction committed (the test's never does)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def o(shared, committed):
    with committed():
        return office(time_limit_value=3)


def _days(unit):
    calendar = working_calendar(unit=unit, start=MONDAY, end=date(2031, 3, 31))
    return set(calendar.days_off)


def test_without_a_shared_cache_every_read_goes_to_the_database(
    committed, django_assert_num_queries
):
    with committed():
        o = office()
    for _ in range(2):
        with django_assert_num_queries(1):
            assert procedure_by_code(o.procedure.code).pk == o.procedure.pk


def test_a_second_read_costs_no_query_and_gives_a_copy(o, django_assert_num_queries):
    first = procedure_by_code(o.procedure.code)
    unit = unit_by_code(o.commune.code)
    documents = documents_of(first)
    _days(o.commune)
    with django_assert_num_queries(0):
        again = procedure_by_code(o.procedure.code)
        assert unit_by_code(o.commune.code).path == unit.path
        assert [d.name for d in documents_of(again)] == [d.name for d in documents]
        assert _days(o.commune) == set()
    assert again == first and again is not first
    again.name = "changed by a caller"
    assert procedure_by_code(o.procedure.code).name == o.procedure.name
    assert again.field.code == o.procedure.field.code


def test_unknown_codes_raise_does_not_exist(o):
    with pytest.raises(Procedure.DoesNotExist):
        procedure_by_code("0.000000")
    with pytest.raises(type(o.commune).DoesNotExist):
        unit_by_code("000.00.00.X00")


def test_a_committed_change_is_read_at_once(o, committed):
    assert procedure_by_code(o.procedure.code).is_active
    documents_of(o.procedure)
    _days(o.commune)
    token = cache.get(VERSION_KEY)
    with committed():
        o.procedure.is_active = False
        o.procedure.save()
        DocumentFactory(procedure=o.procedure, name="Bản vẽ mới")
        CalendarDayFactory(date=MONDAY, name="Nghỉ bù")
    assert cache.get(VERSION_KEY) != token
    assert not procedure_by_code(o.procedure.code).is_active
    assert "Bản vẽ mới" in [d.name for d in documents_of(o.procedure)]
    assert _days(o.commune) == {MONDAY}


def test_a_change_still_in_its_transaction_is_read_by_its_own_thread(
    o, django_capture_on_commit_callbacks
):
    assert _days(o.commune) == set()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        CalendarDayFactory(date=MONDAY, name="Nghỉ bù")
        assert _days(o.commune) == {MONDAY}
        assert catalogue_cache._kept is None  # nothing kept while the change is open
    assert callbacks  # the new token waits for the commit


def test_a_transaction_publishes_once_however_many_rows_it_changes(
    o, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for day in range(3, 8):
            CalendarDayFactory(date=date(2031, 3, day), name="Nghỉ")
        with pytest.raises(RuntimeError), transaction.atomic():
            CalendarDayFactory(date=date(2031, 3, 10), name="Nghỉ")
            raise RuntimeError("the savepoint rolls back, the outer change stands")
    assert [c.func for c in callbacks] == [catalogue_cache._publish]
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            CalendarDayFactory(date=date(2031, 3, 10), name="Nghỉ")
            raise RuntimeError("rolled back with its callback")
        CalendarDayFactory(date=date(2031, 3, 11), name="Nghỉ")
    assert [c.func for c in callbacks] == [catalogue_cache._publish]


def test_a_change_rolled_back_is_never_kept(o):
    assert _days(o.commune) == set()
    with pytest.raises(RuntimeError), transaction.atomic():
        CalendarDayFactory(date=MONDAY, name="Nghỉ bù")
        assert _days(o.commune) == {MONDAY}
        raise RuntimeError("rolled back")
    assert _days(o.commune) == set()
    assert not CalendarDay.objects.filter(date=MONDAY).exists()


def test_a_request_served_inside_the_changing_transaction_keeps_nothing_of_it(o):
    # As the test client serves requests inside a test's transaction.
    with pytest.raises(RuntimeError), transaction.atomic():
        CalendarDayFactory(date=MONDAY, name="Nghỉ bù")
        _request_started()
        try:
            assert _days(o.commune) == {MONDAY}
        finally:
            _request_finished()
        raise RuntimeError("rolled back")
    assert _days(o.commune) == set()


def test_another_process_s_change_is_read_when_its_token_arrives(o):
    assert procedure_by_code(o.procedure.code).name == o.procedure.name
    # Another process changed the row (no signal here) and, on commit, replaced the token.
    Procedure.objects.filter(pk=o.procedure.pk).update(name="Tên mới")
    assert procedure_by_code(o.procedure.code).name == o.procedure.name
    cache.set(VERSION_KEY, "from another process", timeout=None)
    assert procedure_by_code(o.procedure.code).name == "Tên mới"


def test_what_is_kept_is_dropped_after_its_age(o, settings):
    settings.CATALOGUE_CACHE_SECONDS = 60
    assert procedure_by_code(o.procedure.code).name == o.procedure.name
    Procedure.objects.filter(pk=o.procedure.pk).update(name="Sửa bằng psql")
    now = catalogue_cache.time.monotonic()
    with mock.patch.object(catalogue_cache.time, "monotonic", return_value=now + 59):
        assert procedure_by_code(o.procedure.code).name == o.procedure.name
    with mock.patch.object(catalogue_cache.time, "monotonic", return_value=now + 61):
        assert procedure_by_code(o.procedure.code).name == "Sửa bằng psql"


def test_a_zero_age_keeps_nothing(o, settings, django_assert_num_queries):
    settings.CATALOGUE_CACHE_SECONDS = 0
    for _ in range(2):
        with django_assert_num_queries(1):
            unit_by_code(o.commune.code)


def test_a_request_reads_the_token_once(o):
    procedure_by_code(o.procedure.code)
    with mock.patch.object(catalogue_cache.cache, "get", wraps=cache.get) as get:
        procedure_by_code(o.procedure.code)
        unit_by_code(o.commune.code)
        assert get.call_count == 2  # outside a request: at every read
        get.reset_mock()
        _request_started()
        try:
            procedure_by_code(o.procedure.code)
            unit_by_code(o.commune.code)
            documents_of(o.procedure)
        finally:
            _request_finished()
        assert get.call_count == 1


def test_a_change_in_a_request_is_read_in_the_same_request(o, committed):
    _request_started()
    try:
        assert procedure_by_code(o.procedure.code).is_active
        with committed():
            o.procedure.is_active = False
            o.procedure.save()
        assert not procedure_by_code(o.procedure.code).is_active
    finally:
        _request_finished()


def test_with_the_shared_cache_out_of_reach_every_read_goes_to_the_database(
    o, django_assert_num_queries
):
    with (
        mock.patch.object(catalogue_cache.cache, "get", return_value=None),
        mock.patch.object(catalogue_cache.cache, "add", return_value=False),
    ):
        for _ in range(2):
            with django_assert_num_queries(1):
                procedure_by_code(o.procedure.code)


def test_a_request_asks_an_unreachable_redis_once(o, django_assert_num_queries):
    with (
        mock.patch.object(catalogue_cache.cache, "get", return_value=None) as get,
        mock.patch.object(catalogue_cache.cache, "add", return_value=False),
    ):
        _request_started()
        try:
            with django_assert_num_queries(3):
                procedure_by_code(o.procedure.code)
                unit_by_code(o.commune.code)
                documents_of(o.procedure)
        finally:
            _request_finished()
        assert get.call_count == 2  # the token, and again after trying to create it
        procedure_by_code(o.procedure.code)  # the next request asks again
        assert get.call_count == 4


def test_unit_days_apply_along_the_unit_s_chain_only(o, committed):
    other_district = UnitFactory(level=o.district.level, parent=o.district.parent)
    assert _days(o.commune) == set()
    with committed():
        CalendarDayFactory(date=date(2031, 3, 4), name="Ngày của huyện", unit=o.district)
        CalendarDayFactory(date=date(2031, 3, 5), name="Ngày của huyện khác", unit=other_district)
        CalendarDayFactory(date=date(2031, 3, 6), name="Nghỉ toàn quốc")
        CalendarDayFactory(
            date=date(2031, 3, 6),
            kind=CalendarDayKind.WORKING_DAY,
            name="Xã làm bù",
            unit=o.commune,
        )
    assert _days(o.commune) == {date(2031, 3, 4)}  # the commune's own working day wins
    assert _days(o.other_commune) == {date(2031, 3, 4), date(2031, 3, 6)}
    assert _days(other_district) == {date(2031, 3, 5), date(2031, 3, 6)}


def test_holidays_seeded_in_bulk_are_read(o, committed):
    received = datetime(2030, 1, 31, 9, tzinfo=VN_TZ)  # the Thursday before Tết 2030
    before = procedure_deadline(procedure=o.procedure, unit=o.commune, received_at=received)
    with committed():
        seed_holidays(years=[2030])
    after = procedure_deadline(procedure=o.procedure, unit=o.commune, received_at=received)
    assert after.due_at > before.due_at


def test_a_day_off_added_moves_the_next_intake_s_deadline(o, committed):
    received = datetime(2031, 3, 3, 9, tzinfo=VN_TZ)
    before = procedure_deadline(procedure=o.procedure, unit=o.commune, received_at=received)
    with committed():
        add_calendar_day(day=date(2031, 3, 4), kind=CalendarDayKind.HOLIDAY, name="Nghỉ đột xuất")
    after = procedure_deadline(procedure=o.procedure, unit=o.commune, received_at=received)
    assert (after.due_at - before.due_at).days == 1


# --- Through the API --------------------------------------------------------------------------


@pytest.fixture
def counter(o):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(o.counter)
    return client


def test_an_intake_reads_the_catalogue_once_per_process(o, counter):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    body = intake_payload(o)
    with CaptureQueriesContext(connection) as first:
        assert counter.post("/api/v1/dossiers/", body, format="json").status_code == 201
    with (
        CaptureQueriesContext(connection) as second,
        mock.patch.object(catalogue_cache.cache, "get", wraps=cache.get) as get,
    ):
        answer = counter.post("/api/v1/dossiers/", body, format="json")
    # The procedure, the unit, the documents and the calendar: one look at the token.
    assert [c.args[0] for c in get.call_args_list].count(VERSION_KEY) == 1
    assert answer.status_code == 201, answer.content
    catalogue_tables = ("procedures_procedure", "procedures_documentcomponent", "portal_unit")
    catalogue_reads = [
        q["sql"]
        for q in second.captured_queries
        if q["sql"].startswith("SELECT")
        and any(f'FROM "{t}"' in q["sql"] for t in catalogue_tables)
    ]
    assert catalogue_reads == []
    assert '"procedures_calendarday"' not in " ".join(q["sql"] for q in second.captured_queries)
    assert len(second.captured_queries) <= len(first.captured_queries) - 4
    body = answer.json()
    assert Dossier.objects.filter(procedure=o.procedure).count() == 2
    assert body["procedure"] == o.procedure.code
    assert body["field"] == o.procedure.field.code
    assert [line["name"] for line in body["documents"]] == [
        d.name for d in o.procedure.documents.all()
    ]


def test_an_intake_answers_a_procedure_withdrawn_since_it_was_kept(o, counter, committed):
    assert counter.post("/api/v1/dossiers/", intake_payload(o), format="json").status_code == 201
    with committed():
        o.procedure.is_active = False
        o.procedure.save()
    answer = counter.post("/api/v1/dossiers/", intake_payload(o), format="json")
    assert answer.status_code == 400
    assert answer.json()["fields"]["procedure"] == ["Thủ tục này không còn được áp dụng."]


def test_an_unknown_code_is_a_translated_error(o, counter):
    answer = counter.post(
        "/api/v1/dossiers/", intake_payload(o, procedure="0.000000", unit=7), format="json"
    )
    assert answer.status_code == 400
    fields = answer.json()["fields"]
    assert fields["procedure"] == ["Không có thủ tục nào có mã 0.000000."]
    assert fields["unit"] == ["Không có đơn vị nào có mã 7."]
    for bad in ({"code": "x"}, "1.0\x0001", ["1"]):
        body = intake_payload(o, procedure=bad)
        malformed = counter.post("/api/v1/dossiers/", body, format="json")
        assert malformed.status_code == 400, malformed.content
        assert malformed.json()["fields"]["procedure"]


def test_units_under_paths_and_fields_are_kept_and_follow_changes(o, committed):
    from procedures.catalogue_cache import field_choices, units_under
    from procedures.models import Field

    district = [o.district.pk, o.commune.pk, o.other_commune.pk]
    assert [u.pk for u in units_under([o.district.path])] == district
    assert [u.pk for u in units_under([o.commune.path, o.other_commune.path])] == district[1:]
    assert units_under(["/999999/"]) == []
    row = units_under([o.commune.path])[0]
    assert (row.code, row.name, row.path) == (o.commune.code, o.commune.name, o.commune.path)
    fields = field_choices()
    assert fields == list(Field.objects.order_by("sort_order", "name").values_list("code", "name"))
    with committed():
        new = UnitFactory(parent=o.district, level="commune", name="UBND xã Mới")
        o.procedure.field.name = "Hộ tịch (đổi tên)"
        o.procedure.field.save()
    assert new.pk in [u.pk for u in units_under([o.district.path])]
    assert (o.procedure.field.code, "Hộ tịch (đổi tên)") in field_choices()


def test_units_under_a_path_are_its_subtree_only(o, committed, django_assert_num_queries):
    from procedures.catalogue_cache import units_under

    # "/7/1/" must not take "/7/10/" with it: a subtree is its path and what lies below.
    paths = ["/7/", "/7/1/", "/7/1/3/", "/7/10/", "/7/10/4/", "/7/2/", "/70/"]
    with committed():
        units = [UnitFactory(parent=o.district.parent, level="district") for _ in paths]
        for unit, path in zip(units, paths, strict=True):
            type(unit).objects.filter(pk=unit.pk).update(path=path)
        catalogue_cache.catalogue_changed()  # a bulk update sends no signal
    assert units_under(["/"]) is not None
    by_path = dict(zip(paths, (unit.pk for unit in units), strict=True))
    with django_assert_num_queries(0):
        assert [u.path for u in units_under(["/7/1/"])] == ["/7/1/", "/7/1/3/"]
        assert [u.path for u in units_under(["/7/"])] == paths[:-1]
        assert [u.pk for u in units_under(["/7/10/", "/7/1/3/"])] == [
            by_path["/7/1/3/"],
            by_path["/7/10/"],
            by_path["/7/10/4/"],
        ]
        assert [u.path for u in units_under(["/7/1/", "/7/1/3/"])] == ["/7/1/", "/7/1/3/"]


def test_procedures_and_units_by_id_are_kept_as_copies(o, committed, django_assert_num_queries):
    from procedures.catalogue_cache import procedures_by_pk, units_by_pk

    assert set(units_by_pk([o.commune.pk, o.district.pk, 10**9])) == {o.commune.pk, o.district.pk}
    assert set(procedures_by_pk([o.procedure.pk])) == {o.procedure.pk}
    with django_assert_num_queries(0):
        unit = units_by_pk([o.commune.pk])[o.commune.pk]
        procedure = procedures_by_pk([o.procedure.pk])[o.procedure.pk]
        assert procedure.field.code == o.procedure.field.code  # with its field
    unit.name = "changed by a caller"
    assert units_by_pk([o.commune.pk])[o.commune.pk].name == o.commune.name
    with committed():
        o.commune.name = "UBND xã An Thịnh (mới)"
        o.commune.save()
    assert units_by_pk([o.commune.pk])[o.commune.pk].name == "UBND xã An Thịnh (mới)"


def test_a_kept_object_is_copied_as_copy_copy_would(o):
    import copy

    from procedures.catalogue_cache import _copy

    kept = Procedure.objects.select_related("field").get(pk=o.procedure.pk)
    mine, python = _copy(kept), copy.copy(kept)
    python.__dict__.pop("_django_version", None)  # left by the pickling protocol
    assert {k: v for k, v in mine.__dict__.items() if k != "_state"} == {
        k: v for k, v in python.__dict__.items() if k != "_state"
    }
    assert mine._state.__dict__ == python._state.__dict__
    mine.name = "changed"
    mine._state.fields_cache["field"] = None
    assert kept.name == o.procedure.name and kept.field.code == o.procedure.field.code
