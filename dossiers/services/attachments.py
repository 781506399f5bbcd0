"""Attachments: PDF, JPEG and PNG recognised by their content, stored out of public reach."""

import hashlib

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import Action, AttachmentKind, Status
from ..models import Attachment, Dossier, DossierDocument
from ..workflow import TRANSITIONS
from .base import (
    DossierActionError,
    DossierPermissionError,
    _locked,
    _record,
    actor_roles,
)

# --- Attachments --------------------------------------------------------------------------------

_SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
_EXTENSIONS = {
    "application/pdf": {"pdf"},
    "image/png": {"png"},
    "image/jpeg": {"jpg", "jpeg"},
}


def sniff_content_type(head: bytes) -> str | None:
    """PDF, PNG or JPEG by the file's first bytes, whatever its name says."""
    for content_type, signatures in _SIGNATURES.items():
        if head.startswith(signatures):
            return content_type
    return None


def check_upload(upload: UploadedFile) -> str:
    """The content type of an acceptable upload, or a ValidationError saying what is wrong.

    Apply it to every file before storing any: the storage is not transactional, so a file
    written before a later one is refused would stay behind after the rollback.
    """
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            _("The file is larger than %(limit)d MB.") % {"limit": limit // (1024 * 1024)}
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."))
    upload.seek(0)
    content_type = sniff_content_type(upload.read(16))
    upload.seek(0)
    if content_type is None:
        raise ValidationError(_("Only PDF, JPEG and PNG files are accepted."))
    name = upload.name or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not extension:
        raise ValidationError(_("The file's name has no extension: name it .pdf, .jpg or .png."))
    if extension not in _EXTENSIONS[content_type]:
        raise ValidationError(
            _("The file's name says “.%(extension)s” but its content is %(kind)s.")
            % {"extension": extension, "kind": content_type.split("/")[-1].upper()}
        )
    return content_type


@transaction.atomic
def add_attachment(
    *,
    dossier: Dossier,
    by: User,
    upload: UploadedFile,
    kind: str = AttachmentKind.DOCUMENT,
    document: DossierDocument | None = None,
    digitized: bool = False,
) -> Attachment:
    """Store an uploaded PDF, JPEG or PNG with the dossier, recognised by its content."""
    dossier = _locked(dossier)
    roles = actor_roles(dossier, by)
    if not roles:
        raise DossierPermissionError(_("You may not add files to this dossier."))
    if dossier.status in (Status.RETURNED, Status.WITHDRAWN, Status.STOPPED, Status.REFUSED):
        raise DossierActionError(_("This dossier is closed: no more files can be added."))
    if kind == AttachmentKind.RESULT and not roles & TRANSITIONS[Action.RESOLVE].actors:
        raise DossierPermissionError(_("Only processing officers attach the result."))
    try:
        content_type = check_upload(upload)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None
    if document is not None and document.dossier_id != dossier.pk:
        raise ValidationError({"document": _("This document belongs to another dossier.")})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        dossier=dossier,
        document=document,
        kind=kind,
        original_name=(upload.name or "")[-255:],
        content_type=content_type,
        size=upload.size or 0,  # check_upload refused empty and unsized files
        sha256=digest.hexdigest(),
        digitized=digitized,
        uploaded_by=by,
    )
    attachment.file.save("upload", upload, save=False)
    attachment.save()
    _record(
        dossier,
        action=Action.ATTACH,
        by=by,
        at=timezone.now(),
        from_status=dossier.status,
        note=attachment.original_name,
        data={"kind": kind, "attachment": attachment.pk},
    )
    if kind == AttachmentKind.RESULT and digitized and not dossier.digitized_result:
        dossier.digitized_result = True
        dossier.save(update_fields=["digitized_result", "updated_at"])
    return attachment
