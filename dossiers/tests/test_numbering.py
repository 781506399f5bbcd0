"""Dossier codes: one sequence per unit per day, no gaps, never a duplicate."""

import threading
from datetime import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from dossiers.models import DayCounter, Dossier
from dossiers.services import Applicant, next_code
from procedures.deadlines import VN_TZ

from .factories import office, received


@pytest.mark.django_db
def test_codes_follow_agency_code_date_and_sequence_per_unit_and_day(time_machine):
    time_machine.move_to(datetime(2026, 11, 2, 9, 0, tzinfo=VN_TZ), tick=False)
    o = office()
    first, second = received(o), received(o)
    assert first.code == f"{o.commune.code}-261102-0001"
    assert second.code == f"{o.commune.code}-261102-0002"
    time_machine.move_to(datetime(2026, 11, 3, 9, 0, tzinfo=VN_TZ), tick=False)
    assert received(o).code == f"{o.commune.code}-261103-0001"


@pytest.mark.django_db
def test_the_day_of_a_code_is_vietnams_day_not_utcs(time_machine):
    # 06:30 on 3 November in Vietnam is still 2 November in UTC.
    time_machine.move_to(datetime(2026, 11, 3, 6, 30, tzinfo=VN_TZ), tick=False)
    o = office()
    assert next_code(unit=o.commune, at=datetime(2026, 11, 3, 6, 30, tzinfo=VN_TZ)).endswith(
        "-261103-0001"
    )


@pytest.mark.django_db
def test_a_failed_intake_gives_its_number_back():
    o = office()
    with pytest.raises(ValidationError):
        received(o, applicant=Applicant("An", "015090001234", "0000"))
    assert received(o).code.endswith("-0001")


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_intakes_get_fifty_consecutive_codes():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent connections need PostgreSQL (SQLite serialises every write)")
    o = office()
    count = 50
    barrier = threading.Barrier(count)
    codes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def intake() -> None:
        try:
            barrier.wait(timeout=30)
            dossier = received(o)
            with lock:
                codes.append(dossier.code)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=intake) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    numbers = sorted(int(code.rsplit("-", 1)[1]) for code in codes)
    assert numbers == list(range(1, count + 1))
    assert Dossier.objects.count() == count
    assert DayCounter.objects.get(unit=o.commune).last == count
