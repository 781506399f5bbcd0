"""Forms of the citizen's pages: the online submission's two steps, supplying documents,
withdrawing, rating. They check input only; the services decide and change."""

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Profile, Unit
from portal.validators import clean_citizen_id, normalize_phone, phone_validator
from procedures.models import DocumentComponent, Procedure
from procedures.selectors import units_for_procedure

from .choices import RatingScore
from .models import Dossier, DossierDocument
from .services import Applicant, check_upload

ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


def size_limit_mb() -> int:
    return settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)


def file_input() -> forms.ClearableFileInput:
    """A file input for PDF, JPEG and PNG that tells the page's script the size limit."""
    return forms.ClearableFileInput(
        attrs={"accept": ACCEPT, "data-max-bytes": str(settings.ATTACHMENT_MAX_BYTES)}
    )


def _file_field(label: str, *, required: bool) -> forms.FileField:
    return forms.FileField(
        label=label,
        required=required,
        widget=file_input(),
        error_messages={"required": _("Upload this document: it is required.")},
    )


def _checked_file(upload: UploadedFile | None) -> UploadedFile | None:
    """A chosen file that ``services.check_upload`` accepts (type by content, name, size)."""
    if upload:
        try:
            check_upload(upload)
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None
    return upload


# --- Step 1: where to, and who ----------------------------------------------------------------


def receiving_units(procedure: Procedure) -> QuerySet[Unit]:
    """The units that handle ``procedure`` and are in force today."""
    today = timezone.localdate()
    return units_for_procedure(procedure).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=today),
        Q(valid_to__isnull=True) | Q(valid_to__gte=today),
    )


class ApplicantStepForm(forms.Form):
    """Step 1: the receiving unit and the applicant's details (pre-filled from the profile)."""

    unit = forms.ModelChoiceField(
        label=_("Receiving unit"),
        queryset=Unit.objects.none(),
        to_field_name="code",
        empty_label=None,
        help_text=_("The office whose one-stop counter handles your dossier."),
        error_messages={"invalid_choice": _("Choose one of the units in the list.")},
    )
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Enter your full name.")},
    )
    id_number = forms.CharField(
        label=_("Citizen ID number (CCCD)"),
        max_length=20,
        help_text=_("12 digits, as on your citizen ID card."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": _("Enter your citizen ID number.")},
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        help_text=_("We tell you by SMS when something happens, e.g. 0912345678."),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
        error_messages={"required": _("Enter a phone number.")},
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    address = forms.CharField(
        label=_("Address"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )

    def __init__(self, *args: Any, procedure: Procedure, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = receiving_units(procedure)
        self.fields["unit"].label_from_instance = lambda unit: unit.name

    def clean_full_name(self) -> str:
        return " ".join(self.cleaned_data["full_name"].split())

    def clean_id_number(self) -> str:
        return clean_citizen_id(self.cleaned_data["id_number"])

    def clean_phone(self) -> str:
        value = normalize_phone(self.cleaned_data["phone"])
        phone_validator(value)
        return value

    def session_data(self) -> dict[str, str]:
        """What the next step needs, as plain strings for the session."""
        data = self.cleaned_data
        return {
            "unit": data["unit"].code,
            **{
                name: data[name] for name in ("full_name", "id_number", "phone", "email", "address")
            },
        }


def applicant_initial(user: User) -> dict[str, str]:
    """The applicant's details as the account and its profile know them."""
    initial = {
        "full_name": f"{user.last_name} {user.first_name}".strip(),
        "email": user.email,
    }
    profile = Profile.objects.filter(user=user).first()
    if profile is not None:
        for name in ("full_name", "id_number", "phone", "address"):
            value = getattr(profile, name)
            if value:
                initial[name] = value
    return initial


def applicant_from(data: dict[str, str]) -> Applicant:
    return Applicant(
        full_name=data["full_name"],
        id_number=data["id_number"],
        phone=data["phone"],
        email=data.get("email", ""),
        address=data.get("address", ""),
    )


# --- Step 2: the files, the check and the confirmation ------------------------------------------


def new_submission_key() -> str:
    return uuid.uuid4().hex


class DocumentsStepForm(forms.Form):
    """Step 2: one file per document of the procedure, a note, and the applicant's
    confirmation. ``submission_key`` is made when the page is shown: the same form sent twice
    gives one dossier."""

    note = forms.CharField(
        label=_("Note for the office"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=_("I declare that the information and documents are true and complete."),
        error_messages={"required": _("Tick the box to confirm before you submit.")},
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, procedure: Procedure, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.components: list[DocumentComponent] = list(procedure.documents.all())
        fields = {
            self.field_name(c): _file_field(c.name, required=c.required) for c in self.components
        }
        self.fields = {**fields, **self.fields}
        if not self.is_bound:
            self.initial.setdefault("submission_key", new_submission_key())

    @staticmethod
    def field_name(component: DocumentComponent) -> str:
        return f"document_{component.pk}"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for component in self.components:
            name = self.field_name(component)
            if name in cleaned:
                try:
                    cleaned[name] = _checked_file(cleaned[name])
                except forms.ValidationError as error:
                    self.add_error(name, error)
        return cleaned

    def clean_submission_key(self) -> str:
        """The page's key; a missing or mangled one (a forged form) gets a new key rather than
        an error the applicant could do nothing about."""
        try:
            return uuid.UUID(self.cleaned_data["submission_key"].strip()).hex
        except ValueError:
            return new_submission_key()

    def submission_key_value(self) -> str:
        """The key the page carries: the one sent (a corrected submission keeps it), else the
        one made when the page was first shown."""
        if self.is_bound:
            try:
                return uuid.UUID(str(self.data.get("submission_key", ""))).hex
            except ValueError:
                return new_submission_key()
        return str(self.initial["submission_key"])

    def rows(self) -> list[tuple[DocumentComponent, forms.BoundField]]:
        return [(c, self[self.field_name(c)]) for c in self.components]

    def uploads(self) -> dict[int, UploadedFile]:
        return {
            c.pk: self.cleaned_data[self.field_name(c)]
            for c in self.components
            if self.cleaned_data.get(self.field_name(c))
        }


# --- A dossier of mine ------------------------------------------------------------------------


class SupplyForm(forms.Form):
    """The missing documents: a file for any line of the checklist, or another document."""

    other = forms.FileField(
        label=_("Another document"),
        required=False,
        help_text=_("A document that is not in the list above."),
    )
    note = forms.CharField(
        label=_("Message to the office"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, dossier: Dossier, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "supply-%s")
        super().__init__(*args, **kwargs)
        self.lines: list[DossierDocument] = list(dossier.documents.all())
        fields = {
            f"document_{line.pk}": forms.FileField(
                label=line.name, required=False, widget=file_input()
            )
            for line in self.lines
        }
        self.fields = {**fields, **self.fields}
        self.fields["other"].widget = file_input()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        chosen = 0
        for name in [f"document_{line.pk}" for line in self.lines] + ["other"]:
            if cleaned.get(name):
                chosen += 1
                try:
                    _checked_file(cleaned[name])
                except forms.ValidationError as error:
                    self.add_error(name, error)
        if not chosen and not self.errors:
            raise forms.ValidationError(_("Add at least one file with the missing documents."))
        return cleaned

    def rows(self) -> list[tuple[DossierDocument, forms.BoundField]]:
        return [(line, self[f"document_{line.pk}"]) for line in self.lines]

    def uploads(self) -> dict[int, UploadedFile]:
        return {
            line.pk: self.cleaned_data[f"document_{line.pk}"]
            for line in self.lines
            if self.cleaned_data.get(f"document_{line.pk}")
        }

    def others(self) -> list[UploadedFile]:
        return [self.cleaned_data["other"]] if self.cleaned_data.get("other") else []


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you withdraw the dossier?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for the withdrawal.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "withdraw-%s")
        super().__init__(*args, **kwargs)


class RatingForm(forms.Form):
    score = forms.ChoiceField(
        label=_("How satisfied are you with the service?"),
        choices=RatingScore.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose one of the ratings.")},
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "rating-%s")
        super().__init__(*args, **kwargs)
