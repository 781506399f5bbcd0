"""The access matrix: every URL of the site × every kind of user, from the URL configuration.

``tests/access_matrix.py`` holds the expectations; this file lists the URL patterns, builds one
world for the module and runs each (URL, probe, actor) as its own test, e.g.
``test_access[dossiers:detail-sibling_manager]``. A URL without an entry fails
``test_every_url_has_an_entry``, so a new page or endpoint cannot ship without someone deciding
who may reach it.

The world is built once, inside a transaction that is rolled back when the module ends; each
test runs in a savepoint inside it (pytest-django's ``db``), so that an allowed write (a
dossier started, a file added) is undone before the next test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.test.utils import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from rest_framework.views import APIView

from dossiers import services
from dossiers.models import Attachment, Dossier, DossierEvent, Rating
from dossiers.services import Applicant
from dossiers.tests.factories import office, received
from portal.choices import MessageChannel, MessageStatus, Role
from portal.models import OutboxMessage, Profile, Unit
from portal.tests.factories import MembershipFactory, UserFactory
from procedures.models import Procedure

from .access_matrix import (
    ACTORS,
    ANONYMOUS,
    FORBIDDEN,
    INVALID,
    LOGIN,
    MATRIX,
    NOT_FOUND,
    OK,
    OUTCOMES,
    SEES_HOME,
    SEES_SIBLING,
    Probe,
    pdf,
)

pytestmark = pytest.mark.django_db

# --- The URL configuration ------------------------------------------------------------------------

# Not in the matrix, by rule:
# - the Django admin (namespace "admin"): Django's own views, with Django's own checks (is_staff,
#   then model permissions); test_the_admin_site_lets_in_staff_accounts_only covers its door;
# - static files (served by Django only with DEBUG, by whitenoise otherwise): public by nature.
EXCLUDED_NAMESPACES = {"admin"}
EXCLUDED_VIEWS = {"django.contrib.staticfiles.views.serve", "django.views.static.serve"}


@dataclass(frozen=True)
class Route:
    key: str  # the URL's name with its namespaces ("dossiers:detail"), or its route if unnamed
    route: str
    view: str  # dotted path of the view function
    methods: frozenset[str]  # the handlers of an API view; empty when it cannot be known


def _view_path(callback) -> str:
    return f"{callback.__module__}.{callback.__name__}"


def _api_methods(callback) -> frozenset[str]:
    """The HTTP methods a DRF view handles (its handler methods), or nothing for other views:
    what a plain function accepts is hidden in its body or decorators."""
    cls = getattr(callback, "cls", None)
    if not (isinstance(cls, type) and issubclass(cls, APIView)):
        return frozenset()
    handlers = {"get", "post", "put", "patch", "delete"}
    return frozenset(m.upper() for m in handlers if callable(getattr(cls, m, None)))


def _walk(resolver: URLResolver, prefix: str, namespace: str | None) -> Iterator[Route]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                if pattern.namespace in EXCLUDED_NAMESPACES:
                    continue
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            view = _view_path(pattern.callback)
            if view in EXCLUDED_VIEWS:
                continue
            route = prefix + str(pattern.pattern)
            name = pattern.name
            key = (f"{namespace}:{name}" if namespace else name) if name else route
            yield Route(key, route, view, _api_methods(pattern.callback))


def site_routes() -> dict[str, Route]:
    routes: dict[str, Route] = {}
    for found in _walk(get_resolver(), "", None):
        # Two patterns under one name would hide one of them from the matrix.
        assert found.key not in routes, f"two URL patterns are keyed {found.key!r}"
        routes[found.key] = found
    return routes


def test_every_url_has_an_entry():
    missing = sorted(set(site_routes()) - set(MATRIX))
    assert not missing, (
        "URLs without an entry in tests/access_matrix.py (decide who may reach them): "
        + ", ".join(f"{key} (/{site_routes()[key].route})" for key in missing)
    )


def test_every_entry_names_a_url():
    stale = sorted(set(MATRIX) - set(site_routes()))
    assert not stale, "entries of tests/access_matrix.py whose URL is gone: " + ", ".join(stale)


def test_every_method_of_an_api_view_is_probed():
    routes = site_routes()
    for key, probes in MATRIX.items():
        known = routes[key].methods if key in routes else frozenset()
        probed = {probe.method for probe in probes}
        assert known <= probed, f"{key}: methods {sorted(known - probed)} are never tried"
        assert not known or probed <= known, f"{key}: {sorted(probed - known)} not handled"


def test_every_probe_says_what_each_actor_gets():
    for key, probes in MATRIX.items():
        for probe in probes:
            assert set(probe.expect) == set(ACTORS), key
            assert set(probe.expect.values()) <= set(OUTCOMES), key
        slugs = [probe.slug for probe in probes]
        assert len(slugs) == len(set(slugs)), f"{key}: give its probes distinct labels"


# --- The world ------------------------------------------------------------------------------------

# The owner's details as their dossiers carry them (not dossiers.tests.factories.APPLICANT, whose
# phone number is the example the forms' help texts give).
HOME_APPLICANT = Applicant(
    full_name="Nguyễn Văn An",
    id_number="015090001234",
    phone="0913555777",
    email="an@example.com",
    address="Thôn Trung Tâm, xã An Thịnh",
)
SIBLING_APPLICANT = Applicant(
    full_name="Trần Thị Bình",
    id_number="015090009999",
    phone="0987654321",
    address="Thôn Đông, xã Đông Cuông",
)


@dataclass
class World:
    """A province > district > two communes; the owner's dossiers at the home commune, one per
    status the actions need; a dossier of the sibling commune; every actor's account."""

    district: Unit
    commune: Unit
    sibling: Unit
    procedure: Procedure
    users: dict[str, User | None]
    submitted: Dossier
    received: Dossier
    in_progress: Dossier
    supplement: Dossier
    resolved: Dossier
    returned: Dossier
    sibling_dossier: Dossier
    attachment: Attachment
    media: Path


def _administrator(unit: Unit) -> User:
    """An administrator as ``add_staff`` makes one: the role, and the Django admin's door."""
    return MembershipFactory(unit=unit, role=Role.ADMIN, user__is_staff=True).user


def build_world(media: Path) -> World:
    o = office(time_limit_value=5)
    users: dict[str, User | None] = {
        ANONYMOUS: None,
        "citizen": UserFactory(),
        "owner": o.citizen,
        "counter": o.counter,
        "officer": o.officer,
        "manager": MembershipFactory(unit=o.commune, role=Role.MANAGER).user,
        "admin": _administrator(o.commune),
        "sibling_counter": MembershipFactory(unit=o.other_commune, role=Role.COUNTER_OFFICER).user,
        "sibling_officer": o.outsider,
        "sibling_manager": MembershipFactory(unit=o.other_commune, role=Role.MANAGER).user,
        "sibling_admin": _administrator(o.other_commune),
        "district_manager": o.manager,
        "superuser": UserFactory(is_superuser=True, is_staff=True),
    }
    assert set(users) == set(ACTORS)
    Profile.objects.create(
        user=o.citizen,
        full_name=HOME_APPLICANT.full_name,
        id_number=HOME_APPLICANT.id_number,
        phone=HOME_APPLICANT.phone,
    )
    Profile.objects.create(user=users["citizen"], full_name="Phạm Thị Dung", phone="0966000222")

    counter, officer = o.counter, o.officer

    def submitted() -> Dossier:
        return services.submit_dossier(
            procedure=o.procedure, unit=o.commune, applicant=HOME_APPLICANT, user=o.citizen
        )

    def started() -> Dossier:
        dossier = services.accept_dossier(dossier=submitted(), by=counter)
        return services.start_processing(dossier=dossier, by=officer)

    in_progress = started()
    attachment = services.add_attachment(dossier=in_progress, by=counter, upload=pdf())
    supplement = services.request_supplement(
        dossier=started(), by=officer, missing="Bản sao giấy khai sinh", reason="Thiếu giấy tờ"
    )
    resolved = services.resolve_dossier(dossier=started(), by=officer, result="Quyết định số 1")
    returned = services.return_result(
        dossier=services.resolve_dossier(dossier=started(), by=officer, result="Quyết định số 2"),
        by=counter,
    )
    sibling_dossier = received(
        o, unit=o.other_commune, by=users["sibling_counter"], applicant=SIBLING_APPLICANT
    )
    # The SMS gateway failed for both applicants: the operations page lists such messages.
    for key, dossier in (("home", in_progress), ("sibling", sibling_dossier)):
        OutboxMessage.objects.create(
            channel=MessageChannel.SMS,
            recipient=dossier.applicant_phone,
            body=f"Hồ sơ {dossier.code} đã được tiếp nhận.",
            key=f"access-matrix-{key}",
            reference=dossier.code,
            status=MessageStatus.FAILED,
            attempts=5,
            last_error="gateway timeout",
        )
    return World(
        district=o.district,
        commune=o.commune,
        sibling=o.other_commune,
        procedure=o.procedure,
        users=users,
        submitted=submitted(),
        received=services.accept_dossier(dossier=submitted(), by=counter),
        in_progress=in_progress,
        supplement=supplement,
        resolved=resolved,
        returned=returned,
        sibling_dossier=sibling_dossier,
        attachment=attachment,
        media=media,
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    media = tmp_path_factory.mktemp("access-matrix-media")
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=hashers),
        transaction.atomic(),
    ):
        yield build_world(media)
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _world_media(settings, world):
    # The project's conftest gives each test its own MEDIA_ROOT: the world's files live here.
    settings.MEDIA_ROOT = world.media
    cache.clear()  # rate limits count per connection in the cache: every test starts afresh


# --- Running a probe ------------------------------------------------------------------------------

# Named, rather than left to force_login() (the first backend with a get_user()): a backend put
# first to refuse logins must not decide how these sessions load their user.
BACKEND = "django.contrib.auth.backends.ModelBackend"


def login(client, user: User | None) -> None:
    if user is not None:
        client.force_login(user, backend=BACKEND)


def outcome_of(response: HttpResponse) -> str:
    status = response.status_code
    if 300 <= status < 400:
        target = urlsplit(response["Location"]).path
        return LOGIN if target in {reverse("login"), reverse("admin:login")} else OK
    if status == 401 or (status == 403 and _api_code(response) == "not_authenticated"):
        return LOGIN
    if 200 <= status < 300:
        return OK
    return {400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND}.get(status, f"HTTP {status}")


def _api_code(response: HttpResponse) -> str | None:
    if not response.get("Content-Type", "").startswith("application/json"):
        return None
    return json.loads(response.content).get("code")


def body_of(response: HttpResponse) -> str:
    if getattr(response, "streaming", False):
        # Read to the end, which closes the file; not response.close(): outside the test
        # client that would send request_finished, whose handler closes the database
        # connection (and with it the world's transaction) on PostgreSQL.
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return content.decode("utf-8", errors="replace")


def _personal(dossier: Dossier) -> list[str]:
    return [dossier.applicant_name, dossier.applicant_phone, dossier.applicant_id_number]


def forbidden_text(world: World, actor: str, outcome: str) -> list[str]:
    """What the response must not contain: the applicant data of the dossiers the actor may
    not see, and of every dossier when they were refused."""
    hidden = []
    if outcome != OK or actor not in SEES_HOME:
        hidden += _personal(world.in_progress)
    if outcome != OK or actor not in SEES_SIBLING:
        hidden += _personal(world.sibling_dossier)
    return hidden


def state() -> tuple:
    """What a write would change: the rows of dossiers, events, files and ratings, and each
    dossier's status, assignee and apology."""
    return (
        Dossier.objects.count(),
        DossierEvent.objects.count(),
        Attachment.objects.count(),
        Rating.objects.count(),
        sorted(Dossier.objects.values_list("code", "status", "assigned_to", "apologized_at")),
    )


def send(client, probe: Probe, url: str, query: dict, data: dict) -> HttpResponse:
    if probe.method == "GET":
        return client.get(url, query)
    if query:
        url = f"{url}?{urlencode(query)}"
    if probe.json:
        return client.generic(probe.method, url, json.dumps(data), content_type="application/json")
    return client.post(url, data) if probe.method == "POST" else client.generic(probe.method, url)


def url_of(key: str, probe: Probe, world: World) -> str:
    return probe.path(world) if probe.path else reverse(key, kwargs=probe.kwargs(world))


CASES = [
    pytest.param(key, index, actor, id="-".join(filter(None, [key, probe.slug, actor])))
    for key, probes in MATRIX.items()
    for index, probe in enumerate(probes)
    for actor in ACTORS
]


@pytest.mark.parametrize(("key", "index", "actor"), CASES)
def test_access(client, world, key, index, actor):
    probe = MATRIX[key][index]
    expected = probe.expect[actor]
    login(client, world.users[actor])
    url = url_of(key, probe, world)
    match = resolve(url)
    assert (match.view_name if match.url_name else match.route) == key, f"{url} is not {key}"

    query = probe.query(world) if probe.query else {}
    data = probe.data(world) if probe.data else {}
    before = state() if probe.writes else None
    response = send(client, probe, url, query, data)
    outcome = outcome_of(response)
    body = body_of(response)

    assert outcome == expected, (
        f"{probe.method} {url} as {actor}: expected {expected}, got {outcome} "
        f"(HTTP {response.status_code}) {body[:300]!r}"
    )
    # What the user sent (the phone number of a lookup, a form shown again) they knew already.
    sent = url + json.dumps({**query, **data}, default=str, ensure_ascii=False)
    leaked = [text for text in forbidden_text(world, actor, outcome) if text in body]
    leaked = [text for text in leaked if text not in sent]
    assert not leaked, f"{probe.method} {url} shows {actor} {leaked}"
    if probe.writes:
        changed = state() != before
        assert changed == (outcome == OK), f"{probe.method} {url} as {actor} ({outcome}) " + (
            "changed the dossiers" if changed else "changed nothing"
        )


# --- The admin site's door ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (ANONYMOUS, LOGIN),
        ("citizen", LOGIN),
        ("counter", LOGIN),
        ("district_manager", LOGIN),
        ("admin", OK),  # is_staff: the admin's index, with what its permissions allow
        ("superuser", OK),
    ],
)
def test_the_admin_site_lets_in_staff_accounts_only(client, world, actor, expected):
    login(client, world.users[actor])
    response = client.get(reverse("admin:index"))
    assert outcome_of(response) == expected
    if expected == LOGIN:
        assert urlsplit(response["Location"]).path == reverse("admin:login")
