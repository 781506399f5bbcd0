"""Who may do what: every action × every kind of actor, through the API and the pages.

The expectations are written out by hand (not derived from the transition table they test):
an actor who may not see the dossier gets 404, one who may see it but not act gets 403.
"""

from datetime import datetime

import pytest

from dossiers import services
from dossiers.choices import Status
from dossiers.models import Dossier
from procedures.deadlines import VN_TZ

from .factories import Office, office, submitted

pytestmark = pytest.mark.django_db

ACTORS = ["counter", "officer", "manager", "outsider", "owner", "stranger"]

# action: (who may take it, the status the dossier is brought to first)
MATRIX = {
    "accept": ({"counter"}, Status.SUBMITTED),
    "refuse": ({"counter"}, Status.SUBMITTED),
    "start": ({"officer", "manager"}, Status.RECEIVED),
    "request_supplement": ({"officer", "manager"}, Status.IN_PROGRESS),
    "supplement": ({"counter", "officer", "owner"}, Status.SUPPLEMENT_REQUESTED),
    "resolve": ({"officer", "manager"}, Status.IN_PROGRESS),
    "reject": ({"officer", "manager"}, Status.IN_PROGRESS),
    "return": ({"counter"}, Status.RESOLVED),
    "withdraw": ({"counter", "owner"}, Status.RECEIVED),
    "stop": ({"officer", "manager"}, Status.IN_PROGRESS),
    "apologize": ({"officer", "manager"}, Status.IN_PROGRESS),
    "assign": ({"manager"}, Status.IN_PROGRESS),
}
# Who may see a dossier of the commune submitted online by the owner.
SEES = {"counter", "officer", "manager", "owner"}


def _bring(o: Office, status: str) -> Dossier:
    dossier = submitted(o)
    if status == Status.SUBMITTED:
        return dossier
    dossier = services.accept_dossier(dossier=dossier, by=o.counter)
    if status == Status.RECEIVED:
        return dossier
    dossier = services.start_processing(dossier=dossier, by=o.officer)
    if status == Status.SUPPLEMENT_REQUESTED:
        return services.request_supplement(dossier=dossier, by=o.officer, missing="A", reason="B")
    if status == Status.RESOLVED:
        return services.resolve_dossier(dossier=dossier, by=o.officer, result="Xong")
    return dossier


def _actor(o: Office, name: str):
    from portal.tests.factories import UserFactory

    return {
        "counter": o.counter,
        "officer": o.officer,
        "manager": o.manager,
        "outsider": o.outsider,
        "owner": o.citizen,
    }.get(name) or UserFactory()


def _api_body(o: Office, action: str) -> dict:
    return {
        "note": "ghi chú",
        "reason": "lý do",
        "missing": "Giấy tờ còn thiếu",
        "result": "Quyết định số 1",
        "promised_at": "2026-03-20T16:00:00+07:00",
        "officer": o.officer.username,
    }


def _page_body(o: Office, action: str) -> dict:
    return {
        "note": "ghi chú",
        "reason": "lý do",
        "missing": "Giấy tờ còn thiếu",
        "result": "Quyết định số 1",
        "promised_date": "2026-03-20",
        "promised_time": "16:00",
        "officer": o.officer.pk,
    }


def _expected(action: str, actor: str) -> str:
    if actor not in SEES:
        return "hidden"
    return "allowed" if actor in MATRIX[action][0] else "forbidden"


CASES = [(action, actor) for action in MATRIX for actor in ACTORS]


@pytest.mark.parametrize(("action", "actor"), CASES)
def test_api_actions(client, time_machine, action, actor):
    time_machine.move_to(datetime(2026, 3, 9, 9, 0, tzinfo=VN_TZ), tick=False)
    o = office(time_limit_value=3)
    dossier = _bring(o, MATRIX[action][1])
    client.force_login(_actor(o, actor))
    response = client.post(
        f"/api/v1/dossiers/{dossier.code}/actions/{action}/",
        _api_body(o, action),
        content_type="application/json",
    )
    expected = _expected(action, actor)
    status_before = MATRIX[action][1]
    if expected == "allowed":
        assert response.status_code == 200, response.content
        assert Dossier.objects.get(pk=dossier.pk).events.filter(action=action).exists()
    else:
        assert response.status_code == (404 if expected == "hidden" else 403), response.content
        assert Dossier.objects.get(pk=dossier.pk).status == status_before


@pytest.mark.parametrize(("action", "actor"), CASES)
def test_page_actions(client, time_machine, action, actor):
    time_machine.move_to(datetime(2026, 3, 9, 9, 0, tzinfo=VN_TZ), tick=False)
    o = office(time_limit_value=3)
    dossier = _bring(o, MATRIX[action][1])
    client.force_login(_actor(o, actor))
    response = client.post(f"/dossiers/{dossier.code}/actions/{action}/", _page_body(o, action))
    expected = _expected(action, actor)
    if expected == "allowed":
        assert response.status_code == 302, response.content.decode()[:2000]
        assert Dossier.objects.get(pk=dossier.pk).events.filter(action=action).exists()
    else:
        assert response.status_code == (404 if expected == "hidden" else 403)
        assert Dossier.objects.get(pk=dossier.pk).status == MATRIX[action][1]


@pytest.mark.parametrize("path", ["/dossiers/{code}/", "/api/v1/dossiers/{code}/"])
def test_anonymous_users_see_nothing(client, path):
    dossier = submitted(office())
    response = client.get(path.format(code=dossier.code))
    assert response.status_code in (302, 401, 403)
    assert dossier.applicant_name not in response.content.decode()


@pytest.mark.parametrize("actor", ACTORS)
def test_who_sees_the_dossier_page(client, actor):
    o = office()
    dossier = submitted(o)
    client.force_login(_actor(o, actor))
    page = client.get(f"/dossiers/{dossier.code}/")
    api = client.get(f"/api/v1/dossiers/{dossier.code}/")
    expected = 200 if actor in SEES else 404
    if actor == "owner":  # the applicant's own page, without the officers' notes
        assert page.status_code == 302 and page.url == f"/dossiers/my/{dossier.code}/"
        assert api.status_code == 200
        return
    assert (page.status_code, api.status_code) == (expected, expected)
