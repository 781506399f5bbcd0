"""What the applicant is told, and when: one e-mail and one SMS per notable event, queued in
the transaction of the change (portal.services.enqueue_message)."""

from datetime import datetime

from django.utils import formats, translation
from django.utils.translation import gettext as _

from portal.choices import MessageChannel
from portal.services import enqueue_message

from ..choices import Action
from ..models import Dossier, DossierEvent


def _when(value: datetime | None) -> str:
    from django.utils import timezone

    return formats.date_format(timezone.localtime(value), "H:i d/m/Y") if value else ""


def _text(dossier: Dossier, action: str, missing: str = "") -> str | None:
    """The message for ``action`` on ``dossier``, or None when the applicant is not told.
    ``missing``: the documents a supplement request asks for."""
    facts = {
        "code": dossier.code,
        "procedure": dossier.procedure.name,
        "unit": dossier.unit.name,
        "due": _when(dossier.due_at),
        "promised": _when(dossier.promised_at),
        "reason": dossier.close_reason,
        "missing": missing,
    }
    texts: dict[str, str] = {
        Action.RECEIVE: _(
            "Your dossier %(code)s (%(procedure)s) was received by %(unit)s. "
            "The result is due at %(due)s."
        ),
        Action.ACCEPT: _(
            "Your online dossier %(code)s (%(procedure)s) was accepted by %(unit)s. "
            "The result is due at %(due)s."
        ),
        Action.REFUSE: _(
            "Your online dossier %(code)s was not accepted by %(unit)s. Reason: %(reason)s"
        ),
        Action.REQUEST_SUPPLEMENT: _(
            "Your dossier %(code)s needs more documents: %(missing)s. Add them online or at "
            "the counter of %(unit)s."
        ),
        Action.RESOLVE: _("The result of your dossier %(code)s is ready at %(unit)s."),
        Action.REJECT: _("The written answer to your dossier %(code)s is ready at %(unit)s."),
        Action.APOLOGIZE: _(
            "We apologise: your dossier %(code)s will be late. The new date for the result "
            "is %(promised)s."
        ),
        Action.RETURN: _(
            "The result of your dossier %(code)s was handed over. Thank you; you can rate "
            "our service online."
        ),
    }
    text = texts.get(action)
    return text % facts if text else None


def notify_applicant(dossier: Dossier, event: DossierEvent) -> None:
    """Queue the e-mail and the SMS that ``event`` calls for, in Vietnamese."""
    with translation.override("vi"):
        body = _text(dossier, event.action, missing=(event.data or {}).get("missing", ""))
        if body is None:
            return
        subject = _("Dossier %(code)s") % {"code": dossier.code}
    user = dossier.applicant_user
    email = dossier.applicant_email or (user.email if user is not None else "")
    for channel, recipient in (
        (MessageChannel.EMAIL, email),
        (MessageChannel.SMS, dossier.applicant_phone),
    ):
        enqueue_message(
            channel=channel,
            recipient=recipient,
            subject=subject if channel == MessageChannel.EMAIL else "",
            body=body,
            key=f"dossier-event:{event.pk}:{channel}",
            reference=dossier.code,
        )
