"""Who may reach what: every URL of the site × every kind of user, with the expected outcome.

The data of ``tests/test_access_matrix.py``, kept apart from the code that runs it so that it
reads as a table. Keys are URL names as ``reverse()`` takes them (``"dossiers:detail"``); the one
pattern without a name is keyed by its route. A URL added to the site without an entry here
fails ``test_every_url_has_an_entry``; an entry whose URL is gone fails
``test_every_entry_names_a_url``.

Each entry is a list of probes: a method, the URL's arguments and, for writes, a body. Arguments
and bodies are functions of the test world (``w``, built once per module in the test file):

- ``w.submitted`` … ``w.returned``: dossiers of the owner at the home commune, one per status an
  action needs (an action is probed on a dossier whose status allows it, so that the role is
  what decides); ``w.in_progress`` is the one read pages show, with ``w.attachment``;
- ``w.sibling_dossier``: an in-person dossier of the sibling commune (another applicant);
- ``w.procedure``, ``w.commune``, ``w.sibling``, ``w.district``, ``w.users[actor]``.

Outcomes, as the test classifies a response:

- ``ok``: 2xx or 3xx (not to a login page): let in, and it worked;
- ``invalid``: 400: let in, the input was refused (a POST with a minimal body; a bad token);
- ``login``: redirect to the login page, or for the API 401 / 403 ``not_authenticated``;
- ``forbidden``: 403: the user is known but their role does not allow it;
- ``not_found``: 404: the user may not know the object exists (a dossier outside their
  subtree, or not their own, is hidden rather than forbidden).

Beyond the outcome, the test checks that no response gives a user the applicant's name, phone
or citizen ID of a dossier they may not see, and that a refused write changed nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

OK, INVALID, LOGIN, FORBIDDEN, NOT_FOUND = "ok", "invalid", "login", "forbidden", "not_found"
OUTCOMES = (OK, INVALID, LOGIN, FORBIDDEN, NOT_FOUND)

# --- Actors ---------------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
ACTORS = (
    ANONYMOUS,
    "citizen",  # an account with no dossier here
    "owner",  # the citizen who submitted the dossiers (their applicant_user)
    "counter",  # the home commune's counter officer
    "officer",  # … processing officer
    "manager",  # … manager
    "admin",  # … administrator (Role.ADMIN, is_staff as add_staff makes it)
    "sibling_counter",  # the same four roles at the other commune of the same district
    "sibling_officer",
    "sibling_manager",
    "sibling_admin",
    "district_manager",  # manager of the district above both communes
    "superuser",
)
HOME_STAFF = frozenset({"counter", "officer", "manager", "admin"})
SIBLING_STAFF = frozenset(
    {"sibling_counter", "sibling_officer", "sibling_manager", "sibling_admin"}
)
# Who may see the home commune's dossiers: staff of a unit whose subtree holds it, the owner.
SEES_HOME = HOME_STAFF | {"owner", "district_manager", "superuser"}
# Who may see the sibling commune's dossier (applied in person: it has no owner account).
SEES_SIBLING = SIBLING_STAFF | {"district_manager", "superuser"}
CITIZENS = frozenset({"citizen", "owner"})
# Roles anywhere (the superuser holds every role).
COUNTERS = frozenset({"counter", "sibling_counter", "superuser"})
MANAGERS = frozenset({"manager", "sibling_manager", "district_manager", "superuser"})
ADMINS = frozenset({"admin", "sibling_admin", "superuser"})
# Roles over the home commune (its own, the district's, the superuser).
HOME_COUNTERS = frozenset({"counter", "superuser"})
HOME_MANAGERS = frozenset({"manager", "district_manager", "superuser"})
HOME_PROCESSORS = HOME_MANAGERS | {"officer"}
HOME_ADMINS = frozenset({"admin", "superuser"})
# The staff of the home commune's subtree: for the unit-wide pages (register, reports).
HOME_SUBTREE_STAFF = HOME_STAFF | {"district_manager", "superuser"}

Rule = tuple["str | Iterable[str]", str]


def expect(otherwise: str, *rules: Rule, anonymous: str = LOGIN) -> dict[str, str]:
    """Every actor's outcome: ``otherwise``, then each rule ``(actors, outcome)`` in order (a
    later rule wins), and ``anonymous`` last."""
    table = dict.fromkeys(ACTORS, otherwise)
    for actors, outcome in rules:
        for actor in [actors] if isinstance(actors, str) else actors:
            assert actor in table, actor
            table[actor] = outcome
    table[ANONYMOUS] = anonymous
    return table


def everyone(outcome: str) -> dict[str, str]:
    return expect(outcome, anonymous=outcome)


def signed_in(outcome: str) -> dict[str, str]:
    return expect(outcome)


def sees_home(outcome: str = OK) -> dict[str, str]:
    """A page of one home dossier: the subtree's staff and the owner; 404 for the rest."""
    return expect(NOT_FOUND, (SEES_HOME, outcome))


def home_action(may: Iterable[str]) -> dict[str, str]:
    """An action on a home dossier: ``may`` act, the others who see it are refused (403), the
    rest do not learn it exists (404)."""
    return expect(NOT_FOUND, (SEES_HOME, FORBIDDEN), (may, OK))


# --- Probes ---------------------------------------------------------------------------------------

World = Any  # the test file's World; kept loose so that this module imports nothing of it


@dataclass(frozen=True)
class Probe:
    """One request to try as every actor."""

    expect: Mapping[str, str]
    method: str = "GET"
    kwargs: Callable[[World], dict] = field(default=lambda w: {})
    query: Callable[[World], dict] | None = None
    data: Callable[[World], dict] | None = None
    json: bool = False  # send ``data`` as JSON (else form-encoded or multipart)
    writes: bool = False  # may change dossiers: refused ⇒ nothing changed, ok ⇒ something did
    label: str = ""  # tells apart two probes of one URL in the test ids
    path: Callable[[World], str] | None = None  # for the pattern that has no name

    @property
    def slug(self) -> str:
        parts = [self.method] if self.method != "GET" else []
        return "-".join([*parts, *([self.label] if self.label else [])])


def code_of(attribute: str) -> Callable[[World], dict]:
    return lambda w: {"code": getattr(w, attribute).code}


def pdf(name: str = "giay-to.pdf") -> SimpleUploadedFile:
    """A small file that passes the content check (a new one each time: an upload is read)."""
    return SimpleUploadedFile(name, b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")


# Another applicant than the dossiers' for bodies that create one: a form shown again with its
# errors repeats what was typed, which must not count as a leak of the dossiers' applicant.
NEW_APPLICANT = {
    "full_name": "Lê Văn Cường",
    "id_number": "015090007777",
    "phone": "0977000111",
    "email": "cuong@example.com",
    "address": "Thôn Khe Dứa, xã An Thịnh",
}


def intake_form(w: World) -> dict:
    return {
        "unit": w.commune.code,
        "procedure": w.procedure.code,
        "channel": "in_person",
        "postal_tracking_no": "",
        "applicant_name": NEW_APPLICANT["full_name"],
        "applicant_id_number": NEW_APPLICANT["id_number"],
        "applicant_phone": NEW_APPLICANT["phone"],
        "applicant_email": NEW_APPLICANT["email"],
        "applicant_address": NEW_APPLICANT["address"],
        "documents": [str(d.pk) for d in w.procedure.documents.filter(required=True)],
        "note": "",
        "save": "1",
    }


def api_intake(channel: str) -> Callable[[World], dict]:
    def body(w: World) -> dict:
        return {
            "procedure": w.procedure.code,
            "unit": w.commune.code,
            "channel": channel,
            "applicant": NEW_APPLICANT,
            "documents": [d.pk for d in w.procedure.documents.filter(required=True)],
        }

    return body


def import_file(w: World) -> dict:
    received = timezone.localtime() - timedelta(days=7)
    rows = [
        "procedure,unit,channel,applicant_name,applicant_id_number,applicant_phone,received_at",
        f"{w.procedure.code},{w.commune.code},in_person,{NEW_APPLICANT['full_name']},"
        f"{NEW_APPLICANT['id_number']},{NEW_APPLICANT['phone']},{received.isoformat()}",
    ]
    content = ("\n".join(rows) + "\n").encode()
    return {"file": SimpleUploadedFile("ho-so.csv", content, content_type="text/csv")}


def action_body(w: World) -> dict:
    """Enough for every action's serializer, so that only status and role decide."""
    promised = max(timezone.now(), w.in_progress.due_at) + timedelta(days=10)
    return {
        "note": "ghi chú",
        "reason": "lý do",
        "missing": "Giấy tờ còn thiếu",
        "result": "Quyết định số 1",
        "promised_at": promised.isoformat(),
        "officer": w.users["officer"].username,
    }


def api_action(action: str, dossier: str, may: Iterable[str]) -> list[Probe]:
    return [
        Probe(
            home_action(may),
            method="POST",
            kwargs=code_of(dossier),
            data=action_body,
            json=True,
            writes=True,
        )
    ]


def unit_report(**query: str) -> list[Probe]:
    """A report of the home commune (its managers and those above), and of the district (only
    the district's manager: a commune's manager may not look up to the communes beside it)."""
    return [
        Probe(
            expect(FORBIDDEN, (HOME_MANAGERS, OK)),
            query=lambda w: {"unit": w.commune.code, **query},
        ),
        Probe(
            expect(FORBIDDEN, ({"district_manager", "superuser"}, OK)),
            query=lambda w: {"unit": w.district.code, **query},
            label="district",
        ),
    ]


# --- The matrix -----------------------------------------------------------------------------------

MATRIX: dict[str, list[Probe]] = {
    # Site shell and accounts. Public pages are open to all; the account pages need a login.
    "home": [Probe(everyone(OK))],
    "health": [Probe(everyone(OK))],
    "account": [Probe(signed_in(OK))],
    "login": [Probe(everyone(OK))],
    "logout": [Probe(everyone(OK), method="POST")],
    "register": [Probe(everyone(OK))],  # signed in: sent on to the profile (302)
    # An invalid token: the page needs no login (the link is opened on any device) and says
    # the link is invalid (400) to everyone alike.
    "verify-email": [Probe(everyone(INVALID), kwargs=lambda w: {"token": "khong-hop-le"})],
    "profile": [Probe(signed_in(OK))],
    "resend-verification": [Probe(signed_in(OK))],
    "password_reset": [Probe(everyone(OK))],
    "password_reset_done": [Probe(everyone(OK))],
    # An invalid link: the page answers 200 "this link is no longer valid" to everyone.
    "password_reset_confirm": [
        Probe(everyone(OK), kwargs=lambda w: {"uidb64": "MQ", "token": "khong-hop-le"})
    ],
    "password_reset_complete": [Probe(everyone(OK))],
    "set_language": [
        Probe(everyone(OK), method="POST", data=lambda w: {"language": "vi", "next": "/"})
    ],
    # The public catalogue, calendar, lookup and results.
    "procedures:catalogue": [Probe(everyone(OK))],
    "procedures:calendar": [Probe(everyone(OK))],
    "procedures:detail": [Probe(everyone(OK), kwargs=lambda w: {"code": w.procedure.code})],
    # The code and phone of the receipt: anyone who has both learns the progress, never the
    # name or the citizen ID (the phone is theirs already: it is in the request).
    "lookup": [
        Probe(
            everyone(OK),
            query=lambda w: {"code": w.in_progress.code, "phone": w.in_progress.applicant_phone},
        )
    ],
    "reports:public-results": [Probe(everyone(OK), query=lambda w: {"unit": w.commune.code})],
    # Staff pages over many dossiers: any staff member, each seeing their own subtree.
    "dossiers:worklist": [Probe(expect(OK, (CITIZENS, FORBIDDEN)))],
    "dossiers:intake": [
        Probe(expect(FORBIDDEN, (COUNTERS, OK))),
        # A counter officer of the sibling commune may not receive for the home commune: the
        # unit is not among the form's choices (400), nothing is created.
        Probe(
            expect(FORBIDDEN, (COUNTERS, OK), ("sibling_counter", INVALID)),
            method="POST",
            data=intake_form,
            writes=True,
        ),
    ],
    "dossiers:deadline-preview": [
        Probe(
            expect(FORBIDDEN, (COUNTERS, OK), ("sibling_counter", INVALID)),
            query=lambda w: {"procedure": w.procedure.code, "unit": w.commune.code},
        )
    ],
    # The home commune's register (Mẫu 06, with applicants' names): its subtree's staff only;
    # for the sibling's staff the unit is outside their units (404).
    "dossiers:register": [
        Probe(
            expect(FORBIDDEN, (HOME_SUBTREE_STAFF, OK), (SIBLING_STAFF, NOT_FOUND)),
            query=lambda w: {"unit": w.commune.code},
        ),
        # The district's register lists the sibling commune's applicants too: only for those
        # whose subtree holds the district (404 for the communes' staff).
        Probe(
            expect(
                FORBIDDEN,
                (HOME_STAFF | SIBLING_STAFF, NOT_FOUND),
                ({"district_manager", "superuser"}, OK),
            ),
            query=lambda w: {"unit": w.district.code},
            label="district",
        ),
    ],
    "dossiers:overdue": [Probe(expect(FORBIDDEN, (MANAGERS, OK)))],
    # The citizen's pages. Submitting is open to any account; "my" pages show only one's own.
    "dossiers:submit": [
        Probe(signed_in(OK), kwargs=lambda w: {"procedure_code": w.procedure.code})
    ],
    "dossiers:submit-documents": [  # without step 1 in the session: back to step 1 (302)
        Probe(signed_in(OK), kwargs=lambda w: {"procedure_code": w.procedure.code})
    ],
    "dossiers:my": [Probe(signed_in(OK))],
    # Staff have the staff page: "my" pages are the owner's only (404 for everyone else).
    "dossiers:my-detail": [Probe(expect(NOT_FOUND, ("owner", OK)), kwargs=code_of("in_progress"))],
    "dossiers:my-submitted": [Probe(expect(NOT_FOUND, ("owner", OK)), kwargs=code_of("submitted"))],
    "dossiers:my-supply": [
        Probe(
            expect(NOT_FOUND, ("owner", OK)),
            method="POST",
            kwargs=code_of("supplement"),
            data=lambda w: {"other": pdf(), "note": "Bổ sung"},
            writes=True,
        )
    ],
    "dossiers:my-withdraw": [
        Probe(
            expect(NOT_FOUND, ("owner", OK)),
            method="POST",
            kwargs=code_of("in_progress"),
            data=lambda w: {"reason": "Không cần nữa"},
            writes=True,
        )
    ],
    "dossiers:my-rate": [
        Probe(
            expect(NOT_FOUND, ("owner", OK)),
            method="POST",
            kwargs=code_of("returned"),
            data=lambda w: {"score": "satisfied", "comment": ""},
            writes=True,
        )
    ],
    # One dossier's staff pages. The owner is sent on to their own page (302).
    "dossiers:detail": [Probe(sees_home(), kwargs=code_of("in_progress"))],
    # One action from the page (each action × role is dossiers/tests/test_permissions.py's):
    # "start" is for processors; the counter, the unit's admin and the owner see the dossier
    # but may not (403).
    "dossiers:act": [
        Probe(
            home_action(HOME_PROCESSORS),
            method="POST",
            kwargs=lambda w: {"code": w.received.code, "action": "start"},
            data=lambda w: {"note": ""},
            writes=True,
        )
    ],
    # Anyone who sees the dossier may add a file to it (the owner too).
    "dossiers:upload": [
        Probe(
            sees_home(),
            method="POST",
            kwargs=code_of("in_progress"),
            data=lambda w: {"file": pdf(), "kind": "document", "document": ""},
            writes=True,
        )
    ],
    "dossiers:attachment": [
        Probe(sees_home(), kwargs=lambda w: {"code": w.in_progress.code, "pk": w.attachment.pk})
    ],
    "dossiers:slip": [
        Probe(
            sees_home(),
            kwargs=lambda w: {"code": w.in_progress.code, "slip": "receipt"},
            label="receipt",
        ),
        # The processing control sheet (Mẫu 05) is for staff: not the owner.
        Probe(
            expect(NOT_FOUND, (SEES_HOME - {"owner"}, OK)),
            kwargs=lambda w: {"code": w.in_progress.code, "slip": "control"},
            label="control",
        ),
    ],
    # Reports of the home commune: managers of its subtree. Another manager, or a role that is
    # not a manager, is refused (403: the unit's figures are not secret that it exists).
    "reports:monthly": unit_report(),
    "reports:print": unit_report(),
    "reports:export": unit_report(format="csv"),
    "reports:dashboard": unit_report(),
    # Background work for administrators. It lists failed messages (with their recipients) and
    # dossiers without a due date: an administrator of one commune must see neither of
    # another commune's applicants (checked by the leak test, see test_access_matrix).
    # System-wide (every unit's failed messages): the portal's administrators only.
    "operations": [Probe(expect(FORBIDDEN, ({"superuser"}, OK)))],
    # --- API --------------------------------------------------------------------------------
    # A wrong password: 400 for everyone (the view ignores any session).
    "api-token": [
        Probe(
            everyone(INVALID),
            method="POST",
            data=lambda w: {"username": w.users["owner"].username, "password": "sai-mat-khau"},
            json=True,
        )
    ],
    "api-units": [Probe(everyone(OK))],
    "api-public-lookup": [
        Probe(
            everyone(OK),
            query=lambda w: {"code": w.in_progress.code, "phone": w.in_progress.applicant_phone},
        )
    ],
    "api-procedures": [Probe(everyone(OK))],
    "api-procedure": [Probe(everyone(OK), kwargs=lambda w: {"code": w.procedure.code})],
    "api-procedure-deadline": [
        Probe(
            everyone(OK),
            kwargs=lambda w: {"code": w.procedure.code},
            query=lambda w: {"unit": w.commune.code},
        )
    ],
    "api-dossiers": [
        Probe(signed_in(OK)),  # each their own: the leak check holds them to it
        # In-person intake for the home commune: its counter officers. Other staff are refused
        # by the service (403); a citizen is told to submit online (400).
        Probe(
            expect(FORBIDDEN, (HOME_COUNTERS, OK), (CITIZENS, INVALID)),
            method="POST",
            data=api_intake("in_person"),
            json=True,
            writes=True,
            label="in_person",
        ),
        # Online submission: citizens. Staff accounts are told that online dossiers are the
        # applicant's (400).
        Probe(
            expect(INVALID, (CITIZENS, OK)),
            method="POST",
            data=api_intake("online"),
            json=True,
            writes=True,
            label="online",
        ),
    ],
    # Historical dossiers for the home commune. An administrator of the sibling commune must
    # not write dossiers into the home commune's books (safer expectation: 403).
    "api-dossier-import": [
        Probe(
            # A sibling's administrator is refused row by row: the unit is not theirs.
            expect(FORBIDDEN, (HOME_ADMINS, OK), ({"sibling_admin"}, INVALID)),
            method="POST",
            data=import_file,
            writes=True,
        )
    ],
    "api-dossier": [Probe(sees_home(), kwargs=code_of("in_progress"))],
    "api-dossier-attachments": [
        Probe(
            sees_home(),
            method="POST",
            kwargs=code_of("in_progress"),
            data=lambda w: {"file": pdf()},
            writes=True,
        )
    ],
    # The applicant rates, once, after the result was handed over; staff who see it: 403.
    "api-dossier-rating": [
        Probe(
            home_action({"owner"}),
            method="POST",
            kwargs=code_of("returned"),
            data=lambda w: {"score": "satisfied"},
            json=True,
            writes=True,
        )
    ],
    # Each action on a dossier whose status allows it; who may is workflow.TRANSITIONS.
    "api-dossier-accept": api_action("accept", "submitted", HOME_COUNTERS),
    "api-dossier-refuse": api_action("refuse", "submitted", HOME_COUNTERS),
    "api-dossier-start": api_action("start", "received", HOME_PROCESSORS),
    "api-dossier-request-supplement": api_action(
        "request_supplement", "in_progress", HOME_PROCESSORS
    ),
    "api-dossier-supplement": api_action(
        "supplement", "supplement", {"counter", "officer", "owner", "superuser"}
    ),
    "api-dossier-resolve": api_action("resolve", "in_progress", HOME_PROCESSORS),
    "api-dossier-reject": api_action("reject", "in_progress", HOME_PROCESSORS),
    "api-dossier-return": api_action("return", "resolved", HOME_COUNTERS),
    "api-dossier-withdraw": api_action(
        "withdraw", "in_progress", {"counter", "owner", "superuser"}
    ),
    "api-dossier-stop": api_action("stop", "in_progress", HOME_PROCESSORS),
    "api-dossier-apologize": api_action("apologize", "in_progress", HOME_PROCESSORS),
    "api-dossier-assign": api_action("assign", "in_progress", HOME_MANAGERS),
    # An unknown action: 404 for everyone signed in, whether the dossier is theirs or not.
    "api/v1/dossiers/<code:code>/actions/<str:action>/": [
        Probe(
            signed_in(NOT_FOUND),
            method="POST",
            path=lambda w: f"/api/v1/dossiers/{w.in_progress.code}/actions/bay/",
            data=lambda w: {},
            json=True,
            writes=True,
        )
    ],
    "api-report-monthly": unit_report(period=timezone.localdate().strftime("%Y-%m")),
    "api-schema": [Probe(everyone(OK))],
    "api-docs": [Probe(everyone(OK))],
}
