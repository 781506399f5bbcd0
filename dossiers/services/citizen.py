"""What a citizen does to their own dossier online: submit it with its files, supply what the
office asked for. Both check every file before any is stored, so that a refused request leaves
no dossier, no number and no stray file behind."""

from collections.abc import Mapping, Sequence

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from portal.models import Unit
from procedures.models import Procedure

from ..choices import Action, AttachmentKind
from ..models import Dossier
from .attachments import add_attachment, check_upload
from .base import Applicant, _locked
from .intake import submit_dossier
from .processing import record_supplement


def _check_all(uploads: Mapping[str, UploadedFile]) -> None:
    """Every file checked; all the problems reported at once, keyed like ``uploads``."""
    errors: dict[str, list[str]] = {}
    for key, upload in uploads.items():
        try:
            check_upload(upload)
        except ValidationError as error:
            errors[key] = error.messages
    if errors:
        raise ValidationError(errors)


def submit_online(
    *,
    procedure: Procedure,
    unit: Unit,
    applicant: Applicant,
    user: User,
    uploads: Mapping[int, UploadedFile],
    note: str = "",
    submission_key: str = "",
) -> Dossier:
    """``submit_dossier`` with its files checked first, and safe against a double click: the
    same ``submission_key`` twice gives the same dossier, also when both arrive at the same
    instant (``submit_dossier`` settles it)."""
    _check_all({f"document_{pk}": upload for pk, upload in uploads.items()})
    return submit_dossier(
        procedure=procedure,
        unit=unit,
        applicant=applicant,
        user=user,
        uploads=uploads,
        note=note,
        submission_key=submission_key,
    )


@transaction.atomic
def supply_documents(
    *,
    dossier: Dossier,
    by: User,
    uploads: Mapping[int, UploadedFile],
    others: Sequence[UploadedFile] = (),
    note: str = "",
) -> Dossier:
    """The applicant (or an officer for them) supplies what a supplement request asked for:
    the files are stored as supplements, their checklist lines count as received, and the
    clock runs again (``record_supplement``) — all of it or none.

    ``uploads`` maps lines of the dossier's checklist (``DossierDocument`` ids) to files;
    ``others`` are files for documents outside the checklist.
    """
    dossier = _locked(dossier, by, Action.SUPPLEMENT)  # status and role before any input
    if not uploads and not others:
        raise ValidationError({"files": _("Add at least one file with the missing documents.")})
    lines = {line.pk: line for line in dossier.documents.all()}
    unknown = [pk for pk in uploads if pk not in lines]
    if unknown:
        raise ValidationError(
            {
                "documents": _("These documents do not belong to the dossier: %(ids)s.")
                % {"ids": ", ".join(str(pk) for pk in sorted(unknown))}
            }
        )
    _check_all(
        {
            **{f"document_{pk}": upload for pk, upload in uploads.items()},
            **{f"other_{index}": upload for index, upload in enumerate(others)},
        }
    )
    for pk, upload in uploads.items():
        add_attachment(
            dossier=dossier,
            by=by,
            upload=upload,
            kind=AttachmentKind.SUPPLEMENT,
            document=lines[pk],
        )
    for upload in others:
        add_attachment(dossier=dossier, by=by, upload=upload, kind=AttachmentKind.SUPPLEMENT)
    dossier.documents.filter(pk__in=list(uploads), received=False).update(received=True)
    return record_supplement(dossier=dossier, by=by, note=note)
