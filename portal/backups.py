"""Backup and restore of everything the portal keeps: the database and the uploaded files.

One backup is one folder, ``motcua-<UTC time>``, written by ``manage.py backup``:

``database.dump``
    ``pg_dump --format=custom`` of the PostgreSQL database (``database.sqlite3``, a copy made
    with SQLite's backup API, for a development database).
``media.tar.gz``
    every file under MEDIA_ROOT (the attachments), named relative to it.
``manifest.json``
    when and from what it was made, the last applied migration of each app, the number of rows
    of every table, the SHA-256 of the two files above and of every media file.

The manifest is read in the same snapshot as the dump (PostgreSQL: an exported snapshot that
``pg_dump --snapshot`` reuses; SQLite: the copy itself), so its numbers are exactly those of the
dump. The database is dumped before the media files are archived: an attachment's file is
written before its row commits, so every attachment in the dump has its file in the archive.

``manage.py restore`` puts a backup into an empty database and MEDIA_ROOT and then verifies
them against the manifest; it refuses a database with tables and never overwrites a file.
See docs/backup.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from django.utils.translation import gettext as _

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA_ARCHIVE = "media.tar.gz"
DUMP_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
FOLDER_PREFIX = "motcua-"
CHUNK = 1024 * 1024

# Libpq reads these from the environment: the password never appears on a command line.
_PG_ENV = {"HOST": "PGHOST", "PORT": "PGPORT", "USER": "PGUSER", "PASSWORD": "PGPASSWORD"}
_PG_OPTION_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, for the operator."""


@dataclass
class DatabaseState:
    """What the manifest records of a database, read in one snapshot."""

    tables: dict[str, int]  # rows per table
    migrations: dict[str, str]  # the last applied migration of each app
    attachments: list[tuple[str, str]]  # (stored name, SHA-256) of every attachment row


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: int = 0
    files: int = 0
    dossiers: int = 0
    attachments: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


# --- Reading a database --------------------------------------------------------------------------


def _attachment_table() -> tuple[str, str, str]:
    from dossiers.models import Attachment

    meta = Attachment._meta
    return meta.db_table, meta.get_field("file").column, meta.get_field("sha256").column


def _dossier_table() -> str:
    from dossiers.models import Dossier

    return Dossier._meta.db_table


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _read_state(cursor: Any, tables: list[str]) -> DatabaseState:
    """Row counts, migrations and attachments through any DB-API cursor (Django's or sqlite3's),
    with SQL that PostgreSQL and SQLite both speak and no parameters."""
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")
        counts[table] = int(cursor.fetchone()[0])
    migrations: dict[str, str] = {}
    if "django_migrations" in counts:
        cursor.execute('SELECT "app", "name" FROM "django_migrations" ORDER BY "id"')
        for app, name in cursor.fetchall():
            migrations[app] = name  # applied later wins: the last applied per app
    attachments: list[tuple[str, str]] = []
    table, file_column, sha_column = _attachment_table()
    if table in counts:
        cursor.execute(
            f"SELECT {_quote(file_column)}, {_quote(sha_column)} FROM {_quote(table)} "
            f"ORDER BY {_quote(file_column)}"
        )
        attachments = [(str(name), str(digest)) for name, digest in cursor.fetchall()]
    return DatabaseState(
        tables=counts, migrations=dict(sorted(migrations.items())), attachments=attachments
    )


def read_database_state(connection: BaseDatabaseWrapper) -> DatabaseState:
    with connection.cursor() as cursor:
        return _read_state(cursor, connection.introspection.table_names(cursor))


def _sqlite_file_state(path: Path) -> DatabaseState:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        cursor = db.cursor()
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        return _read_state(cursor, tables)


def _vendor(connection: BaseDatabaseWrapper) -> str:
    if connection.vendor not in DUMP_FILES:
        raise BackupError(
            _(
                "Backups are made of PostgreSQL (and of SQLite in development); this database "
                "is %(vendor)s."
            )
            % {"vendor": connection.vendor}
        )
    return connection.vendor


def _connect(connection: BaseDatabaseWrapper) -> None:
    try:
        connection.ensure_connection()
    except DatabaseError as error:
        raise BackupError(
            _("Cannot connect to the database %(name)s: %(error)s")
            % {"name": connection.settings_dict.get("NAME"), "error": str(error).strip()}
        ) from None


# --- Files ----------------------------------------------------------------------------------


class _HashingReader:
    """A file read through to a tar archive, hashed on the way."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _archive_media(media_root: Path, target: Path) -> dict[str, dict[str, Any]]:
    """Every regular file under ``media_root`` into a tar.gz, with its SHA-256 and size."""
    files: dict[str, dict[str, Any]] = {}
    with tarfile.open(target, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        if not media_root.is_dir():
            return files
        for path in sorted(media_root.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            name = path.relative_to(media_root).as_posix()
            info = tar.gettarinfo(str(path), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with path.open("rb") as handle:
                reader = _HashingReader(handle)
                tar.addfile(info, reader)
            files[name] = {"sha256": reader.digest.hexdigest(), "size": info.size}
    return files


def _member_name(member: tarfile.TarInfo) -> str | None:
    """The MEDIA_ROOT-relative name of a regular file in the archive; None for a folder; a
    BackupError for anything that could land outside MEDIA_ROOT or is not a plain file."""
    path = PurePosixPath(member.name)
    parts = [part for part in path.parts if part not in ("", ".")]
    if member.isdir():
        return None
    if path.is_absolute() or ".." in parts or not parts or not member.isfile():
        raise BackupError(
            _("The media archive holds an entry that cannot be restored safely: %(name)s.")
            % {"name": member.name}
        )
    return "/".join(parts)


def _media_members(archive: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(archive, "r:gz") as tar:
        members = {}
        for member in tar.getmembers():
            name = _member_name(member)
            if name is not None:
                members[name] = member
        return members


# --- Manifest ---------------------------------------------------------------------------------


def app_version() -> str | None:
    try:
        with (Path(settings.BASE_DIR) / "pyproject.toml").open("rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return None


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a backup folder, checked to name files that are there."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BackupError(_("The folder %(folder)s does not exist.") % {"folder": folder})
    if not path.is_file():
        raise BackupError(
            _("%(folder)s is not a complete backup: it has no %(file)s.")
            % {"folder": folder, "file": MANIFEST}
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        engine = manifest["database"]["engine"]
        files = (manifest["database"]["file"], manifest["media"]["file"])
        manifest["media"]["files"].items()
        manifest["tables"].items()
        manifest["migrations"].items()
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise BackupError(
            _("The manifest %(file)s cannot be read: %(error)s") % {"file": path, "error": error}
        ) from None
    if manifest.get("format") != FORMAT or engine not in DUMP_FILES:
        raise BackupError(_("The manifest %(file)s is of an unknown format.") % {"file": path})
    for name in files:
        if PurePosixPath(name).name != name or not (folder / name).is_file():
            raise BackupError(
                _("%(folder)s is not a complete backup: it has no %(file)s.")
                % {"folder": folder, "file": name}
            )
    return manifest


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# --- PostgreSQL tools ---------------------------------------------------------------------------


def pg_tool(name: str, pg_bin: str = "") -> str:
    """The path of ``pg_dump`` or ``pg_restore``: in ``pg_bin`` when given, else on PATH."""
    found = str(Path(pg_bin) / name) if pg_bin else shutil.which(name)
    if not found or not os.access(found, os.X_OK):
        raise BackupError(
            _(
                "%(tool)s was not found. Install the PostgreSQL client tools of the server's "
                "version (Debian: apt-get install postgresql-client) or give their folder "
                "with --pg-bin."
            )
            % {"tool": name}
        )
    return found


def pg_environment(settings_dict: dict[str, Any]) -> dict[str, str]:
    """The environment that points libpq tools at the database of ``settings_dict``."""
    env = dict(os.environ)
    for key, variable in _PG_ENV.items():
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    for key, variable in _PG_OPTION_ENV.items():
        value = (settings_dict.get("OPTIONS") or {}).get(key)
        if value:
            env[variable] = str(value)
    env["PGDATABASE"] = str(settings_dict["NAME"])
    return env


def _run_tool(args: list[str], *, env: dict[str, str], tool: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        args, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(
            _("%(tool)s failed (exit code %(code)d): %(error)s")
            % {"tool": tool, "code": result.returncode, "error": result.stderr.strip()}
        )
    return result


def _tool_version(path: str) -> str:
    result = subprocess.run(
        [path, "--version"], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    return result.stdout.strip()


# --- Backup ---------------------------------------------------------------------------------------


def _dump_postgresql(
    connection: BaseDatabaseWrapper, target: Path, pg_bin: str
) -> tuple[DatabaseState, dict[str, str]]:
    """pg_dump in the snapshot in which the manifest's numbers are read."""
    pg_dump = pg_tool("pg_dump", pg_bin)
    if connection.in_atomic_block:
        raise BackupError("A backup cannot run inside a transaction.")  # a programming error
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
        snapshot, server_version = cursor.fetchone()
        state = _read_state(cursor, connection.introspection.table_names(cursor))
        _run_tool(
            [
                pg_dump,
                "--format=custom",
                "--no-password",
                f"--snapshot={snapshot}",
                f"--file={target}",
            ],
            env=pg_environment(connection.settings_dict),
            tool="pg_dump",
        )
    return state, {"server_version": server_version, "tool": _tool_version(pg_dump)}


def _dump_sqlite(
    connection: BaseDatabaseWrapper, target: Path
) -> tuple[DatabaseState, dict[str, str]]:
    """A consistent copy with SQLite's backup API; the manifest reads the copy itself."""
    connection.ensure_connection()
    with closing(sqlite3.connect(target)) as copy:
        connection.connection.backup(copy)
    return _sqlite_file_state(target), {"server_version": sqlite3.sqlite_version, "tool": ""}


def _attachment_problems(
    attachments: list[tuple[str, str]], files: dict[str, dict[str, Any]]
) -> list[str]:
    """Stored names of attachments whose file is missing or differs from its recorded SHA-256:
    already broken when the backup was made."""
    return [
        name for name, digest in attachments if name not in files or files[name]["sha256"] != digest
    ]


def create_backup(
    *,
    output: Path,
    media_root: Path,
    using: str = DEFAULT_DB_ALIAS,
    pg_bin: str = "",
    now: datetime | None = None,
) -> Path:
    """Write a backup folder under ``output`` and return it; nothing is left behind on failure
    (the folder gets its final name only when complete)."""
    connection = connections[using]
    vendor = _vendor(connection)
    if not output.is_dir():
        raise BackupError(_("The folder %(folder)s does not exist.") % {"folder": output})
    now = now or timezone.now()
    name = f"{FOLDER_PREFIX}{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    final, partial = output / name, output / f".{name}.partial"
    if final.exists():
        raise BackupError(_("%(folder)s already exists.") % {"folder": final})
    partial.mkdir(mode=0o700)  # citizens' personal data: for the operator's eyes only
    try:
        dump = partial / DUMP_FILES[vendor]
        _connect(connection)
        if vendor == "postgresql":
            state, server = _dump_postgresql(connection, dump, pg_bin)
        else:
            state, server = _dump_sqlite(connection, dump)
        archive = partial / MEDIA_ARCHIVE
        files = _archive_media(media_root, archive)
        attachment_table = _attachment_table()[0]
        manifest = {
            "format": FORMAT,
            "created_at": timezone.localtime(now).isoformat(),
            "app": {"name": "mot-cua", "version": app_version()},
            "database": {
                "engine": vendor,
                "name": str(connection.settings_dict.get("NAME")),
                "file": dump.name,
                "sha256": file_sha256(dump),
                "size": dump.stat().st_size,
                **server,
            },
            "dossiers": state.tables.get(_dossier_table(), 0),
            "attachments": state.tables.get(attachment_table, 0),
            "migrations": state.migrations,
            "tables": state.tables,
            "media": {
                "file": archive.name,
                "sha256": file_sha256(archive),
                "size": archive.stat().st_size,
                "files": files,
            },
            "attachments_broken_at_backup": _attachment_problems(state.attachments, files),
        }
        _write_json(partial / MANIFEST, manifest)
        for path in partial.iterdir():
            path.chmod(0o600)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final


# --- Restore --------------------------------------------------------------------------------------


def _check_checksums(folder: Path, manifest: dict[str, Any]) -> None:
    for part in (manifest["database"], manifest["media"]):
        if file_sha256(folder / part["file"]) != part.get("sha256"):
            raise BackupError(
                _(
                    "%(file)s does not match its checksum in the manifest: the backup is "
                    "damaged. Nothing was restored."
                )
                % {"file": folder / part["file"]}
            )


def _check_empty(connection: BaseDatabaseWrapper) -> None:
    tables = connection.introspection.table_names()
    if tables:
        raise BackupError(
            _(
                "The database %(name)s is not empty (%(count)d tables): nothing was restored. "
                "Restore into a new, empty database (createdb) and point DATABASE_URL at it."
            )
            % {"name": connection.settings_dict.get("NAME"), "count": len(tables)}
        )


def _restore_postgresql(connection: BaseDatabaseWrapper, dump: Path, pg_bin: str) -> None:
    pg_restore = pg_tool("pg_restore", pg_bin)
    # One transaction: a failure leaves the database empty, as it was.
    _run_tool(
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            f"--dbname={connection.settings_dict['NAME']}",
            str(dump),
        ],
        env=pg_environment(connection.settings_dict),
        tool="pg_restore",
    )
    connection.close()  # the next query sees the restored schema on a fresh connection


def _restore_sqlite(connection: BaseDatabaseWrapper, dump: Path) -> None:
    connection.ensure_connection()
    with closing(sqlite3.connect(f"file:{dump}?mode=ro", uri=True)) as source:
        source.backup(connection.connection)


@contextmanager
def _written_files() -> Iterator[list[Path]]:
    """The files a restore writes; removed again if it fails half-way."""
    written: list[Path] = []
    try:
        yield written
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _extract_media(archive: Path, media_root: Path, members: dict[str, tarfile.TarInfo]) -> None:
    with tarfile.open(archive, "r:gz") as tar, _written_files() as written:
        for name, member in members.items():
            target = media_root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None  # a regular file (checked by _member_name)
            try:
                handle = target.open("xb")  # never over an existing file
            except FileExistsError:
                raise BackupError(
                    _(
                        "%(file)s already exists and was not overwritten. The database was "
                        "restored, the files were not: empty the media folder, unpack "
                        "%(archive)s there by hand (docs/backup.md), then run restore "
                        "--verify-only."
                    )
                    % {"file": target, "archive": archive}
                ) from None
            written.append(target)
            with handle, source:
                shutil.copyfileobj(source, handle, CHUNK)


def restore_backup(
    *,
    folder: Path,
    media_root: Path,
    using: str = DEFAULT_DB_ALIAS,
    pg_bin: str = "",
    say: Callable[[str], None] = lambda line: None,
) -> Verification:
    """Restore ``folder`` into the (empty) database ``using`` and ``media_root``, then verify.

    Every check that can refuse runs before anything is written: the manifest and the files it
    names, their checksums, the database being of the backup's kind and empty, no media file
    already in place.
    """
    manifest = read_manifest(folder)
    connection = connections[using]
    vendor = _vendor(connection)
    engine = manifest["database"]["engine"]
    if engine != vendor:
        raise BackupError(
            _("This is a backup of a %(backup)s database; the portal's database is %(vendor)s.")
            % {"backup": engine, "vendor": vendor}
        )
    if vendor == "postgresql":
        pg_tool("pg_restore", pg_bin)
    _check_checksums(folder, manifest)
    archive = folder / manifest["media"]["file"]
    members = _media_members(archive)
    if set(members) != set(manifest["media"]["files"]):
        raise BackupError(
            _("The files in %(file)s are not those of the manifest: the backup is damaged.")
            % {"file": archive}
        )
    existing = sorted(name for name in members if (media_root / name).exists())
    if existing:
        raise BackupError(
            _(
                "%(count)d files of the backup already exist under %(folder)s (the first: "
                "%(file)s): nothing was restored. Restore into an empty media folder."
            )
            % {"count": len(existing), "folder": media_root, "file": existing[0]}
        )
    _connect(connection)
    _check_empty(connection)

    dump = folder / manifest["database"]["file"]
    say(
        _("Backup of %(created_at)s: %(dossiers)d dossiers, %(attachments)d attachments.")
        % {
            "created_at": manifest.get("created_at"),
            "dossiers": manifest.get("dossiers", 0),
            "attachments": manifest.get("attachments", 0),
        }
    )
    say(_("Restoring the database from %(file)s …") % {"file": dump})
    if vendor == "postgresql":
        _restore_postgresql(connection, dump, pg_bin)
    else:
        _restore_sqlite(connection, dump)
    say(
        _("Restoring %(count)d files into %(folder)s …")
        % {"count": len(members), "folder": media_root}
    )
    _extract_media(archive, media_root, members)
    _forget_what_processes_keep()
    return verify_backup(folder=folder, media_root=media_root, using=using, manifest=manifest)


def _forget_what_processes_keep() -> None:
    """A new catalogue token: the running processes drop the catalogue they keep, and the public
    lookup's kept answers (read under the old token) no longer count — they may be of a
    database the restore replaced."""
    from procedures.catalogue_cache import catalogue_changed

    with transaction.atomic():
        catalogue_changed()


# --- Verification ---------------------------------------------------------------------------


def _pending_migrations(connection: BaseDatabaseWrapper) -> bool:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def verify_backup(
    *,
    folder: Path,
    media_root: Path,
    using: str = DEFAULT_DB_ALIAS,
    manifest: dict[str, Any] | None = None,
) -> Verification:
    """Compare the database ``using`` and ``media_root`` with a backup's manifest: the rows of
    every table, the migrations, every file's SHA-256, and every attachment's file against the
    SHA-256 its row records."""
    manifest = manifest or read_manifest(folder)
    connection = connections[using]
    _connect(connection)
    state = read_database_state(connection)
    result = Verification()
    for table, expected in manifest["tables"].items():
        found = state.tables.get(table)
        if found is None:
            result.problems.append(_("Table %(table)s is missing.") % {"table": table})
        elif found != expected:
            result.problems.append(
                _("Table %(table)s has %(found)d rows, the backup %(expected)d.")
                % {"table": table, "found": found, "expected": expected}
            )
    result.tables = len(manifest["tables"])
    if state.migrations != manifest["migrations"]:
        result.problems.append(
            _("The applied migrations differ from the backup's: %(found)s instead of %(expected)s.")
            % {"found": state.migrations, "expected": manifest["migrations"]}
        )
    for name, meta in manifest["media"]["files"].items():
        path = media_root / name
        if not path.is_file():
            result.problems.append(_("File %(file)s is missing.") % {"file": name})
        elif file_sha256(path) != meta["sha256"]:
            result.problems.append(
                _("File %(file)s does not match its checksum in the manifest.") % {"file": name}
            )
        result.files += 1
    known = set(manifest.get("attachments_broken_at_backup") or [])
    for name, digest in state.attachments:
        path = media_root / name
        if name in known:
            continue
        if not path.is_file():
            result.problems.append(
                _("The file of attachment %(file)s is missing.") % {"file": name}
            )
        elif file_sha256(path) != digest:
            result.problems.append(
                _("The file of attachment %(file)s does not match its recorded checksum.")
                % {"file": name}
            )
    if known:
        result.notes.append(
            _("%(count)d attachments were already missing or damaged when the backup was made.")
            % {"count": len(known)}
        )
    result.dossiers = state.tables.get(_dossier_table(), 0)
    result.attachments = len(state.attachments)
    if _pending_migrations(connection):
        result.notes.append(
            _("This code has migrations the database has not applied yet: run manage.py migrate.")
        )
    return result
