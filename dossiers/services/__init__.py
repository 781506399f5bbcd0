"""Every change to a dossier: one function per transition, each atomic, each writing its event.

Nothing else assigns ``Dossier.status``. A refused change raises and leaves nothing behind:
``DossierActionError`` for a transition the dossier's status does not allow (HTTP 409),
``DossierPermissionError`` for an actor whose role does not allow it (HTTP 403), and Django's
``ValidationError`` for bad input (HTTP 400).
"""

from .attachments import add_attachment, check_upload, sniff_content_type
from .base import Applicant, DossierActionError, DossierPermissionError, actor_roles
from .calendar import (
    recompute_deadlines_for_calendar_change,
    recompute_deadlines_for_calendar_days,
)
from .citizen import submit_online, supply_documents
from .imports import DossierImportError, ImportResult, import_dossiers
from .intake import accept_dossier, next_code, receive_dossier, refuse_dossier, submit_dossier
from .processing import (
    assign_dossier,
    issue_apology,
    record_supplement,
    reject_dossier,
    request_supplement,
    resolve_dossier,
    return_result,
    start_processing,
    stop_dossier,
    withdraw_dossier,
)
from .rating import rate_dossier

__all__ = [
    "Applicant",
    "DossierActionError",
    "DossierImportError",
    "DossierPermissionError",
    "ImportResult",
    "accept_dossier",
    "actor_roles",
    "add_attachment",
    "assign_dossier",
    "check_upload",
    "import_dossiers",
    "issue_apology",
    "next_code",
    "rate_dossier",
    "receive_dossier",
    "recompute_deadlines_for_calendar_change",
    "recompute_deadlines_for_calendar_days",
    "record_supplement",
    "refuse_dossier",
    "reject_dossier",
    "request_supplement",
    "resolve_dossier",
    "return_result",
    "sniff_content_type",
    "start_processing",
    "stop_dossier",
    "submit_dossier",
    "submit_online",
    "supply_documents",
    "withdraw_dossier",
]
