from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from procedures.importers import CatalogueFormatError, parse_catalogue
from procedures.services import CatalogueImportError, import_procedures


class Command(BaseCommand):
    help = (
        "Import procedures from a catalogue file (JSON or CSV, e.g. an export of the national "
        "procedure database). All or nothing: any bad row and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON or CSV file, UTF-8")

    def handle(self, *args, file: str, **options):
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(_("File not found: %(file)s") % {"file": file}) from None
        except UnicodeDecodeError:
            raise CommandError(_("The file is not UTF-8 text: %(file)s") % {"file": file}) from None
        try:
            result = import_procedures(catalogue=parse_catalogue(text, filename=path.name))
        except CatalogueFormatError as exc:
            raise CommandError(str(exc)) from None
        except CatalogueImportError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(
                _("Nothing was imported: %(count)d rows have errors.") % {"count": len(exc.errors)}
            ) from None
        self.stdout.write(
            _("Imported %(created)d new and %(updated)d updated procedures.")
            % {"created": len(result.created), "updated": len(result.updated)}
        )
