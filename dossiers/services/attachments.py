"""Attachments: PDF, JPEG and PNG recognised by their content, stored out of public reach."""

import hashlib
import re
import unicodedata
from urllib.parse import quote

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
_CANONICAL_EXTENSION = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
# The names clients give each accepted type, and types a browser would run as a page or script:
# a declared type among these that is not the content's own is refused.
_DECLARED_ALIASES = {
    "application/pdf": {"application/pdf", "application/x-pdf"},
    "image/png": {"image/png", "image/x-png"},
    "image/jpeg": {"image/jpeg", "image/jpg", "image/pjpeg"},
}
_ACTIVE_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
}
FALLBACK_NAME = "tep-dinh-kem"  # "attachment", when nothing of the given name is usable
_SPACES = re.compile(r"\s+")


def sniff_content_type(head: bytes) -> str | None:
    """PDF, PNG or JPEG by the file's first bytes, whatever its name says."""
    for content_type, signatures in _SIGNATURES.items():
        if head.startswith(signatures):
            return content_type
    return None


def safe_file_name(name: str | None) -> str:
    """The name a user gave a file, fit to show and to offer as a download name: no folder
    part ("../../etc/passwd.pdf" → "passwd.pdf", also with backslashes), no control or
    direction-changing characters, no leading dots, at most 255 characters with the extension
    kept. It is only ever shown: files are stored under a generated name."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    # Cc: control characters (NUL, newlines); Cf: format characters (bidi overrides, zero width).
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )
    text = _SPACES.sub(" ", text).strip().lstrip(". ")
    if len(text) > 255:
        stem, dot, extension = text.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            text = stem[: 254 - len(extension)].rstrip() + "." + extension
        else:
            text = text[:255]
    return text or FALLBACK_NAME


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def check_upload(upload: UploadedFile) -> str:
    """The content type of an acceptable upload, or a ValidationError saying what is wrong.

    The content decides: the first bytes must be those of a PDF, PNG or JPEG, and the name's
    extension and the type the client declared must not say otherwise. Apply it to every file
    before storing any: the storage is not transactional, so a file written before a later one
    is refused would stay behind after the rollback.
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
    kind = content_type.split("/")[-1].upper()
    extension = _extension(safe_file_name(upload.name))
    if not extension:
        raise ValidationError(_("The file's name has no extension: name it .pdf, .jpg or .png."))
    if extension not in _EXTENSIONS[content_type]:
        raise ValidationError(
            _("The file's name says “.%(extension)s” but its content is %(kind)s.")
            % {"extension": extension, "kind": kind}
        )
    declared = (getattr(upload, "content_type", None) or "").split(";")[0].strip().lower()
    if declared not in _DECLARED_ALIASES[content_type] and (
        declared.startswith("image/")
        or declared in _ACTIVE_TYPES
        or any(declared in aliases for aliases in _DECLARED_ALIASES.values())
    ):
        raise ValidationError(
            _("The file was sent as “%(declared)s” but its content is %(kind)s.")
            % {"declared": declared, "kind": kind}
        )
    return content_type


def download_name(original_name: str, content_type: str) -> str:
    """The name a stored file is downloaded under: the sanitised original name, with the
    extension of its real content when the name lacks it."""
    name = safe_file_name(original_name)
    extension = _CANONICAL_EXTENSION.get(content_type)
    if extension and _extension(name) not in _EXTENSIONS[content_type]:
        name = f"{name}.{extension}"
    return name


def _ascii_name(name: str) -> str:
    """A plain-ASCII stand-in for old clients: diacritics dropped (đ → d), the rest replaced."""
    text = unicodedata.normalize("NFKD", name.replace("Đ", "D").replace("đ", "d"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in text)


def attachment_disposition(original_name: str, content_type: str) -> str:
    """``Content-Disposition`` of a download: always ``attachment`` (never shown inline), with
    an ASCII ``filename`` and the exact name as ``filename*`` (RFC 6266, RFC 8187)."""
    name = download_name(original_name, content_type)
    return f"attachment; filename=\"{_ascii_name(name)}\"; filename*=utf-8''{quote(name, safe='')}"


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
        original_name=safe_file_name(upload.name),
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
