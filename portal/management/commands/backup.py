"""``backup --output DIR``: the database and the uploaded files into a new folder under DIR,
with a manifest to verify a restore against (portal.backups, docs/backup.md)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from portal.backups import MANIFEST, BackupError, create_backup, read_manifest


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump --format=custom; SQLite's backup API in development) and "
        "every uploaded file (MEDIA_ROOT) into a new folder motcua-<time> under --output, with "
        "a manifest.json of counts and checksums."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", required=True, help="the folder in which the backup's folder is made"
        )
        parser.add_argument(
            "--pg-bin",
            default="",
            help="folder of pg_dump when it is not on PATH, e.g. /usr/lib/postgresql/16/bin",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            folder = create_backup(
                output=Path(options["output"]),
                media_root=Path(settings.MEDIA_ROOT),
                pg_bin=options["pg_bin"],
            )
        except BackupError as error:
            raise CommandError(str(error)) from None
        manifest = read_manifest(folder)
        broken = manifest["attachments_broken_at_backup"]
        if broken:
            self.stderr.write(
                _(
                    "Warning: %(count)d attachments have no file, or a file that differs from "
                    "its recorded checksum, in MEDIA_ROOT (listed in %(file)s)."
                )
                % {"count": len(broken), "file": folder / MANIFEST}
            )
        self.stdout.write(
            _(
                "Backup written to %(folder)s: %(dossiers)d dossiers, %(attachments)d "
                "attachments, %(files)d files."
            )
            % {
                "folder": folder,
                "dossiers": manifest["dossiers"],
                "attachments": manifest["attachments"],
                "files": len(manifest["media"]["files"]),
            }
        )
