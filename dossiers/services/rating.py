"""The applicant rates the service once, after the result was handed over."""

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import Action, RatingScore, Status
from ..models import Dossier, Rating
from .base import DossierActionError, DossierPermissionError, _locked, _record


@transaction.atomic
def rate_dossier(
    *, dossier: Dossier, by: User | AnonymousUser, score: str, comment: str = ""
) -> Rating:
    dossier = _locked(dossier)
    if not by.is_authenticated or dossier.applicant_user_id != by.pk:
        raise DossierPermissionError(_("Only the applicant may rate the service."))
    if dossier.status != Status.RETURNED:
        raise DossierActionError(_("The service can be rated once the result was handed over."))
    if score not in RatingScore.values:
        raise ValidationError({"score": _("Choose one of the ratings.")})
    if len(comment) > 2000:
        raise ValidationError({"comment": _("The comment is longer than 2000 characters.")})
    if Rating.objects.filter(dossier=dossier).exists():
        raise DossierActionError(_("This dossier was already rated. Thank you!"))
    try:
        with transaction.atomic():
            rating = Rating.objects.create(dossier=dossier, score=score, comment=comment.strip())
    except IntegrityError:  # rated at the same instant from another tab
        raise DossierActionError(_("This dossier was already rated. Thank you!")) from None
    _record(
        dossier,
        action=Action.RATE,
        by=by,
        at=timezone.now(),
        from_status=dossier.status,
        note=comment.strip(),
        data={"score": score},
    )
    return rating
