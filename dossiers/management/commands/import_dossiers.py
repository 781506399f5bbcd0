from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dossiers.importers import DossierFileError, parse_csv
from dossiers.services import DossierImportError, import_dossiers


class Command(BaseCommand):
    help = (
        "Import historical dossiers from a CSV file (migration from an older system). All or "
        "nothing: any bad row and nothing is written; the errors are listed by row and column."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file, UTF-8, with a header row (DESIGN.md §6)")
        parser.add_argument(
            "--as",
            dest="username",
            default=None,
            help="The account recorded as having imported the dossiers.",
        )

    def handle(self, *args: Any, file: str, username: str | None, **options: Any) -> None:
        user = None
        if username:
            try:
                user = get_user_model().objects.get(username=username)
            except get_user_model().DoesNotExist:
                raise CommandError(
                    _("No account has the username %(username)s.") % {"username": username}
                ) from None
        try:
            text = Path(file).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(_("File not found: %(file)s") % {"file": file}) from None
        except UnicodeDecodeError:
            raise CommandError(_("The file is not UTF-8 text: %(file)s") % {"file": file}) from None
        try:
            result = import_dossiers(parsed=parse_csv(text), by=user)
        except DossierFileError as exc:
            raise CommandError(str(exc)) from None
        except DossierImportError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(
                ngettext(
                    "Nothing was imported: the file has %(count)d error.",
                    "Nothing was imported: the file has %(count)d errors.",
                    len(exc.errors),
                )
                % {"count": len(exc.errors)}
            ) from None
        self.stdout.write(
            ngettext(
                "Imported %(count)d dossier (%(generated)d numbered here).",
                "Imported %(count)d dossiers (%(generated)d numbered here).",
                result.created,
            )
            % {"count": result.created, "generated": result.generated_codes}
        )
        for status, count in result.by_status.items():
            self.stdout.write(f"  {status}: {count}")
