from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

citizen_id_validator = RegexValidator(
    r"^\d{12}$", _("A citizen ID number (CCCD) has exactly 12 digits.")
)
# Mobile numbers: 0 + 3/5/7/8/9 + 8 digits; landlines: 02 + 9 digits. Also with +84 or 84.
phone_validator = RegexValidator(
    r"^(?:0|\+?84)(?:[35789]\d{8}|2\d{9})$",
    _("Enter a Vietnamese phone number, e.g. 0912345678 or 02163852300."),
)


def normalize_phone(value: str) -> str:
    """A phone number as stored: spaces, dots and dashes removed."""
    return "".join(ch for ch in value.strip() if ch.isdigit() or ch == "+")


def clean_citizen_id(value: str) -> str:
    """A citizen ID as typed (spaces, dots or dashes between digit groups allowed), checked and
    returned as its 12 digits."""
    digits = "".join(ch for ch in value if ch not in " .-\t")
    citizen_id_validator(digits)
    return digits
