from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers.services.sweep import sweep_deadlines


class Command(BaseCommand):
    help = "Run one sweep of the deadline worker now (for cron or debugging)."

    def handle(self, *args, **options):
        result = sweep_deadlines(now=timezone.now())
        self.stdout.write(
            _(
                "%(overdue)d dossiers became overdue, %(soon)d are due soon, "
                "%(warnings)d warnings queued."
            )
            % {"overdue": result.overdue, "soon": result.due_soon, "warnings": result.warnings}
        )
