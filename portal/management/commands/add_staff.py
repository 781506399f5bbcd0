from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from portal.choices import Role
from portal.models import Unit
from portal.services import add_staff


class Command(BaseCommand):
    help = "Create or update a staff account and its membership of a unit."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--unit", required=True, help="agency code of the unit")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", help="set this password (else unchanged, or unusable)")
        parser.add_argument("--email", default="")
        parser.add_argument("--full-name", default="")

    def handle(self, *args, username, unit, role, password, email, full_name, **options):
        try:
            unit_obj = Unit.objects.get(code=unit)
        except Unit.DoesNotExist:
            raise CommandError(_("No unit has the code %(code)s.") % {"code": unit}) from None
        try:
            user, created = add_staff(
                username=username,
                unit=unit_obj,
                role=role,
                password=password,
                email=email,
                full_name=full_name,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        message = _("Created %(user)s") if created else _("Updated %(user)s")
        self.stdout.write(
            (message + _(": %(role)s at %(unit)s."))
            % {"user": user.username, "role": Role(role).label, "unit": unit_obj.name}
        )
