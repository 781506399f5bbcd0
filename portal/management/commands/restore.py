"""``restore --input DIR``: a backup made by ``backup`` into an empty database and MEDIA_ROOT,
then verified against its manifest; ``--verify-only`` just verifies (after a restore by hand).
Exits non-zero when anything is refused or does not match (portal.backups, docs/backup.md)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from portal.backups import BackupError, Verification, restore_backup, verify_backup


class Command(BaseCommand):
    help = (
        "Restore a backup folder made by `backup` into the database of DATABASE_URL, which must "
        "be empty, and into MEDIA_ROOT (no file is overwritten), then verify both against the "
        "backup's manifest. With --verify-only, restore nothing and only verify."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--input", required=True, help="the backup's folder (motcua-…)")
        parser.add_argument(
            "--verify-only",
            action="store_true",
            help="compare the database and MEDIA_ROOT with the backup, change nothing",
        )
        parser.add_argument(
            "--pg-bin",
            default="",
            help="folder of pg_restore when it is not on PATH, e.g. /usr/lib/postgresql/16/bin",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        folder, media_root = Path(options["input"]), Path(settings.MEDIA_ROOT)
        try:
            if options["verify_only"]:
                result = verify_backup(folder=folder, media_root=media_root)
            else:
                result = restore_backup(
                    folder=folder,
                    media_root=media_root,
                    pg_bin=options["pg_bin"],
                    say=self.stdout.write,
                )
        except BackupError as error:
            raise CommandError(str(error)) from None
        self._report(result)

    def _report(self, result: Verification) -> None:
        for note in result.notes:
            self.stdout.write(note)
        summary = _(
            "%(tables)d tables, %(dossiers)d dossiers, %(attachments)d attachments, %(files)d "
            "files checked against the manifest."
        ) % {
            "tables": result.tables,
            "dossiers": result.dossiers,
            "attachments": result.attachments,
            "files": result.files,
        }
        if result.ok:
            self.stdout.write(summary + " " + _("Everything matches the backup."))
            return
        for problem in result.problems:
            self.stderr.write(problem)
        self.stderr.write(summary)
        raise CommandError(
            _("Verification failed: %(count)d differences from the backup.")
            % {"count": len(result.problems)}
        )
