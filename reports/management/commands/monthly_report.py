"""``monthly_report --unit CODE --period YYYY-MM`` (DESIGN.md §6): Biểu số II.06a as JSON, CSV
or XLSX. Bad input stops with a clear message and writes nothing."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import Unit
from reports.exports import report_csv, report_workbook
from reports.forms import ReportForm
from reports.selectors import monthly_statistics

FORMATS = ("json", "csv", "xlsx")


class Command(BaseCommand):
    help = (
        "Biểu số II.06a/VPCP/KSTT (the handling of administrative procedures) for a unit and "
        "the units below it, over a period: JSON on the standard output by default."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit", required=True, help="agency code of the unit")
        parser.add_argument(
            "--period",
            default="",
            help="2026-10 (a month), 2026-Q3, 2026-H1 or 2026; required unless --from is given",
        )
        parser.add_argument(
            "--basis",
            default="official",
            help="official (default: months run from the 15th to the 14th) or calendar",
        )
        parser.add_argument(
            "--group-by", dest="group_by", default="unit", help="unit (default) or field"
        )
        parser.add_argument("--from", dest="start", default="", help="first day of any range")
        parser.add_argument("--to", dest="end", default="", help="last day of the range")
        parser.add_argument("--format", dest="fmt", default="json", help="json, csv or xlsx")
        parser.add_argument("--output", default="", help="write to this file (needed for xlsx)")

    def handle(self, *args: Any, **options: Any) -> None:
        fmt, output = options["fmt"], options["output"]
        if fmt not in FORMATS:
            raise CommandError(
                _("Unknown format “%(format)s”: use json, csv or xlsx.") % {"format": fmt}
            )
        if fmt == "xlsx" and not output:
            raise CommandError(_("An XLSX book is a binary file: give --output FILE."))
        target = Path(output) if output else None
        if target is not None and not target.parent.is_dir():
            raise CommandError(
                _("The folder %(folder)s does not exist.") % {"folder": target.parent}
            )
        form = ReportForm(
            {
                "unit": options["unit"],
                "period": options["period"],
                "basis": options["basis"],
                "group_by": options["group_by"],
                "from": options["start"],
                "to": options["end"],
            },
            units=Unit.objects.all(),
            today=timezone.localdate(),
        )
        if not form.is_valid():
            raise CommandError(
                " ".join(str(message) for errors in form.errors.values() for message in errors)
            )
        unit, period, group_by = form.report_args()
        report = monthly_statistics(unit=unit, period=period, group_by=group_by)
        if fmt == "xlsx":
            content = report_workbook(report)
        elif fmt == "csv":
            content = report_csv(report, bom=target is not None)
        else:
            text = json.dumps(report.as_json(), ensure_ascii=False, indent=2) + "\n"
            content = text.encode("utf-8")
        if target is None:
            self.stdout.write(content.decode("utf-8"), ending="")
            return
        target.write_bytes(content)
        self.stdout.write(
            _("Wrote %(file)s: %(unit)s, %(period)s.")
            % {"file": target, "unit": unit.name, "period": period.label()}
        )
