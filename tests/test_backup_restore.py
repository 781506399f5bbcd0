"""Backup and restore (issue 7 item 8, docs/backup.md): a backup restored into a fresh database
gives the same reports and the same attachments, and every refusal changes nothing.

The world is made in this process through the services (dossiers across channels, statuses and
units, a rating, PDF and PNG attachments stored by the upload service, a closed period). The
backup runs here (``manage.py backup``); the restore and everything read back from the restored
copy run in other processes configured only by the environment, as an operator would run them:
DATABASE_URL names a database created for the test (PostgreSQL: ``CREATE DATABASE``, always
dropped after; SQLite: a new file) and MEDIA_ROOT a new folder.

On PostgreSQL the backup is ``pg_dump --format=custom`` and the restore ``pg_restore``; on
SQLite (development) both use SQLite's backup API. The tests run on both.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import uuid
import zlib
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils.translation import override
from time_machine import travel

from dossiers.choices import AttachmentKind, Channel, RatingScore
from dossiers.models import Attachment, Dossier
from dossiers.services import add_attachment
from portal.backups import MANIFEST, MEDIA_ARCHIVE, read_database_state, read_manifest
from reports.periods import month_period
from reports.services import close_period
from reports.tests.factories import act, at, district_world, lifecycle
from tests.test_celery_worker import ROOT, _base_env, _postgres_url

SUBPROCESS_TIMEOUT = 300

# The reports compared before and after: a closed period (read from its snapshot, with the
# corrections made since), an open one by field, and a quarter as CSV (byte for byte).
REPORTS = {
    "september.json": ["--period", "2026-09"],
    "october-by-field.json": ["--period", "2026-10", "--group-by", "field"],
    "q3.csv": ["--period", "2026-Q3", "--basis", "calendar", "--format", "csv"],
}

# What a process prints of its database: every report, every dossier and every attachment.
READ_BACK = """
import io, json, sys
import django

django.setup()
from django.core.management import call_command
from tests.test_backup_restore import attachment_rows, dossier_rows

unit, reports = sys.argv[1], json.loads(sys.argv[2])
out = {"reports": {}, "dossiers": dossier_rows(), "attachments": attachment_rows()}
for name, args in reports.items():
    buffer = io.StringIO()
    call_command("monthly_report", "--unit", unit, *args, stdout=buffer)
    out["reports"][name] = buffer.getvalue()
print(json.dumps(out, ensure_ascii=False))
"""


def _png() -> bytes:
    """A real 2×2 RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    pixels = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
PNG = _png()


def dossier_rows() -> list[list]:
    """Every dossier as it stands, comparable across processes."""
    fields = ["code", "unit__code", "procedure__code", "channel", "status", "timeliness"]
    times = ["received_at", "due_at", "resolved_at", "returned_at", "closed_at", "paused_at"]
    return [
        [*row[: len(fields)], *(t.isoformat() if t else None for t in row[len(fields) :])]
        for row in Dossier.objects.order_by("code").values_list(*fields, *times)
    ]


def attachment_rows() -> list[list]:
    return [
        list(row)
        for row in Attachment.objects.order_by("file").values_list(
            "dossier__code", "file", "original_name", "kind", "content_type", "size", "sha256"
        )
    ]


def _report(unit: str, args: list[str]) -> str:
    out = io.StringIO()
    with override(settings.LANGUAGE_CODE):
        call_command("monthly_report", "--unit", unit, *args, stdout=out)
    return out.getvalue()


def _without_as_of(text: str) -> dict:
    """A JSON report without the moment it was computed (the one thing that may differ)."""
    data = json.loads(text)
    data.pop("as_of")
    return data


@dataclass
class World:
    district: str  # the district's code
    media: dict[str, bytes]  # every attachment's stored name → its bytes


def _upload(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def world(transactional_db) -> World:
    """A district with two communes, a few months of dossiers, attachments and a closed month."""
    w = district_world(communes=2)
    a01, a02 = w.communes
    # Online, accepted, resolved early with a digitized result, handed back and rated.
    online = lifecycle(
        w,
        unit=a01,
        procedure=w.online_procedure,
        channel=Channel.ONLINE,
        at=at(2026, 8, 20, 9),
        steps=[("accept", at(2026, 8, 20, 10)), ("start", at(2026, 8, 20, 11))],
    )
    with travel(at(2026, 8, 24, 9), tick=False):
        add_attachment(
            dossier=online,
            by=w.officer,
            upload=_upload("Kết quả giải quyết.pdf", PDF, "application/pdf"),
            kind=AttachmentKind.RESULT,
            digitized=True,
        )
    act(w, online, "resolve", at(2026, 8, 24, 10))
    act(w, online, "return", at(2026, 8, 25, 9))
    act(w, online, "rate", at(2026, 8, 26, 9), score=RatingScore.VERY_SATISFIED)
    # In person, paused for a supplement, resolved late.
    paused = lifecycle(
        w,
        unit=a02,
        procedure=w.offline_procedure,
        at=at(2026, 9, 1, 8),
        steps=[
            ("start", at(2026, 9, 1, 9)),
            ("request_supplement", at(2026, 9, 2, 9)),
            ("supplement", at(2026, 9, 7, 9)),
        ],
    )
    with travel(at(2026, 9, 7, 10), tick=False):
        add_attachment(
            dossier=paused,
            by=w.counter,
            upload=_upload("to-khai.pdf", PDF + b"% bo sung\n", "application/pdf"),
        )
    act(w, paused, "resolve", at(2026, 9, 30, 10))
    # By post to the district, digitized at intake, still open, with a scanned page.
    postal = lifecycle(
        w,
        unit=w.district,
        procedure=w.district_procedure,
        channel=Channel.POSTAL,
        at=at(2026, 9, 10, 9),
        steps=[("start", at(2026, 9, 10, 10))],
        digitized_intake=True,
    )
    with travel(at(2026, 9, 10, 11), tick=False):
        add_attachment(
            dossier=postal, by=w.counter, upload=_upload("ảnh chụp.png", PNG, "image/png")
        )
    # Carried over from July and overdue; withdrawn; refused online.
    lifecycle(
        w,
        unit=a01,
        procedure=w.offline_procedure,
        at=at(2026, 7, 1, 9),
        steps=[("start", at(2026, 7, 1, 10))],
    )
    lifecycle(
        w,
        unit=a01,
        procedure=w.offline_procedure,
        at=at(2026, 8, 18, 9),
        steps=[("withdraw", at(2026, 8, 19, 9))],
    )
    lifecycle(
        w,
        unit=a02,
        procedure=w.online_procedure,
        channel=Channel.ONLINE,
        at=at(2026, 9, 3, 9),
        steps=[("refuse", at(2026, 9, 3, 10))],
    )
    # September closed two working days after the 14th; a dossier of September entered after
    # that (late paperwork) shows in its report as a correction against the snapshot.
    close_period(period=month_period(at(2026, 9, 14, 9).date()), now=at(2026, 9, 16, 18))
    lifecycle(
        w,
        unit=a02,
        procedure=w.offline_procedure,
        at=at(2026, 9, 11, 9),
        steps=[("start", at(2026, 9, 11, 10)), ("resolve", at(2026, 10, 2, 9))],
    )
    media = {a.file.name: Path(a.file.path).read_bytes() for a in Attachment.objects.all()}
    assert len(media) == 3
    return World(district=w.district.code, media=media)


# --- A fresh database, and processes that use it ------------------------------------------------


@dataclass
class Fresh:
    """An empty database for a restore, as an operator makes one with ``createdb``."""

    url: str  # DATABASE_URL of it
    settings_dict: dict

    def tables(self) -> list[str]:
        if self.settings_dict["ENGINE"].endswith("sqlite3"):
            import sqlite3

            path = Path(self.settings_dict["NAME"])
            if not path.exists():
                return []
            with closing(sqlite3.connect(path)) as db:
                return [r[0] for r in db.execute("SELECT name FROM sqlite_master")]
        import psycopg2

        params = {"HOST": "host", "PORT": "port", "USER": "user", "PASSWORD": "password"}
        with (
            psycopg2.connect(
                dbname=self.settings_dict["NAME"],
                **{
                    arg: self.settings_dict[key]
                    for key, arg in params.items()
                    if self.settings_dict.get(key)
                },
            ) as db,
            db.cursor() as cursor,
        ):
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
            return [r[0] for r in cursor.fetchall()]


@pytest.fixture
def fresh(transactional_db, tmp_path: Path) -> Iterator[Fresh]:
    if connection.vendor == "sqlite":
        path = tmp_path / "restored.sqlite3"
        yield Fresh(
            f"sqlite:///{path}", {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}
        )
        return
    if connection.vendor != "postgresql":
        pytest.skip(f"backups are made of PostgreSQL and SQLite, not {connection.vendor}")
    name = f"restore_{uuid.uuid4().hex[:16]}"
    quoted = connection.ops.quote_name(name)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {quoted}")
    try:
        settings_dict = {**connection.settings_dict, "NAME": name}
        yield Fresh(_postgres_url(settings_dict), settings_dict)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")


@pytest.fixture
def backup(world: World, tmp_path: Path) -> Path:
    """``manage.py backup`` of the world, in this process; the backup's folder."""
    output = tmp_path / "backups"
    output.mkdir()
    call_command("backup", "--output", str(output), stdout=io.StringIO())
    (folder,) = output.iterdir()
    return folder


def _run(
    args: list[str], *, database: Fresh, media_root: Path, tmp_path: Path
) -> subprocess.CompletedProcess:
    env = _base_env(tmp_path, database_url=database.url)
    env.update(MEDIA_ROOT=str(media_root), DJANGO_SETTINGS_MODULE="portal.settings")
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )


def _files(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


# --- The round trip -------------------------------------------------------------------------


def test_a_backup_restored_into_a_fresh_database_gives_the_same_reports_and_files(
    world: World, backup: Path, fresh: Fresh, tmp_path: Path
):
    before = {name: _report(world.district, args) for name, args in REPORTS.items()}
    september = _without_as_of(before["september.json"])
    assert september["closed"]["corrections"], "the closed month should show its correction"
    assert _without_as_of(before["october-by-field.json"])["total"]["resolved"]["total"] == 2
    dossiers, attachments = dossier_rows(), attachment_rows()

    manifest = read_manifest(backup)
    assert manifest["dossiers"] == Dossier.objects.count() == len(dossiers) == 7
    assert manifest["attachments"] == 3
    assert manifest["migrations"]["dossiers"] and manifest["migrations"]["reports"]
    assert set(manifest["media"]["files"]) == set(world.media)
    assert not manifest["attachments_broken_at_backup"]
    assert sorted(p.name for p in backup.iterdir()) == sorted(
        [MANIFEST, MEDIA_ARCHIVE, manifest["database"]["file"]]
    )

    media = tmp_path / "restored-media"
    restored = _run(
        ["manage.py", "restore", "--input", str(backup)],
        database=fresh,
        media_root=media,
        tmp_path=tmp_path,
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr

    read = _run(
        ["-c", READ_BACK, world.district, json.dumps(REPORTS)],
        database=fresh,
        media_root=media,
        tmp_path=tmp_path,
    )
    assert read.returncode == 0, read.stderr
    after = json.loads(read.stdout)
    for name, text in before.items():
        if name.endswith(".json"):
            assert _without_as_of(after["reports"][name]) == _without_as_of(text), name
        else:
            assert after["reports"][name] == text, name
    assert after["dossiers"] == dossiers
    assert after["attachments"] == attachments
    # Every attachment under the same stored name, byte for byte, and nothing else.
    assert _files(media) == world.media


# --- Refusals -----------------------------------------------------------------------------


def test_restore_refuses_a_database_that_is_not_empty_and_changes_nothing(
    world: World, backup: Path, tmp_path: Path, settings
):
    settings.MEDIA_ROOT = tmp_path / "empty-media"
    state = read_database_state(connection)
    with override("en"), pytest.raises(CommandError, match="is not empty"):
        call_command("restore", "--input", str(backup), stdout=io.StringIO())
    assert read_database_state(connection) == state
    assert _files(tmp_path / "empty-media") == {}


def test_restore_overwrites_no_file_and_restores_nothing_when_one_exists(
    world: World, backup: Path, fresh: Fresh, tmp_path: Path
):
    media = tmp_path / "restored-media"
    taken = sorted(world.media)[0]
    (media / taken).parent.mkdir(parents=True)
    (media / taken).write_bytes(b"%PDF-1.4 a file that is already there\n")

    result = _run(
        ["manage.py", "restore", "--input", str(backup)],
        database=fresh,
        media_root=media,
        tmp_path=tmp_path,
    )
    assert result.returncode != 0
    assert taken in result.stderr
    assert fresh.tables() == []
    assert _files(media) == {taken: b"%PDF-1.4 a file that is already there\n"}


def _tamper_archive(backup: Path, name: str) -> None:
    """Change one file inside the media archive, as a bad disk or a careless hand would."""
    archive = backup / MEDIA_ARCHIVE
    with tarfile.open(archive, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers() if m.isfile()]
    with tarfile.open(archive, "w:gz") as tar:
        for member, content in members:
            if member.name == name:
                content = content[:-1] + bytes([content[-1] ^ 1])
            tar.addfile(member, io.BytesIO(content))


def test_a_damaged_backup_is_refused_before_anything_is_restored(
    world: World, backup: Path, fresh: Fresh, tmp_path: Path
):
    _tamper_archive(backup, sorted(world.media)[-1])
    media = tmp_path / "restored-media"
    result = _run(
        ["manage.py", "restore", "--input", str(backup)],
        database=fresh,
        media_root=media,
        tmp_path=tmp_path,
    )
    assert result.returncode != 0
    assert MEDIA_ARCHIVE in result.stderr
    assert fresh.tables() == []
    assert _files(media) == {}


def test_the_documented_raw_commands_restore_and_verify_finds_a_changed_file(
    world: World, backup: Path, fresh: Fresh, tmp_path: Path
):
    """docs/backup.md's restore by hand (pg_restore and tar), then ``restore --verify-only``:
    it passes, and fails naming the file once one restored file is changed."""
    manifest = read_manifest(backup)
    dump = backup / manifest["database"]["file"]
    if connection.vendor == "postgresql":
        from portal.backups import pg_environment

        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={fresh.settings_dict['NAME']}",
                str(dump),
            ],
            env=pg_environment(fresh.settings_dict),
            check=True,
            stdin=subprocess.DEVNULL,
            capture_output=True,
        )
    else:
        shutil.copyfile(dump, fresh.settings_dict["NAME"])
    media = tmp_path / "restored-media"
    media.mkdir()
    subprocess.run(
        ["tar", "-xzf", str(backup / MEDIA_ARCHIVE), "-C", str(media), "--keep-old-files"],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    verify = ["manage.py", "restore", "--input", str(backup), "--verify-only"]
    result = _run(verify, database=fresh, media_root=media, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr

    changed = sorted(world.media)[0]
    path = media / changed
    path.write_bytes(path.read_bytes() + b"\n")
    result = _run(verify, database=fresh, media_root=media, tmp_path=tmp_path)
    assert result.returncode != 0
    assert changed in result.stderr


def test_backup_and_restore_refuse_unusable_input_clearly(
    transactional_db, tmp_path: Path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    output = tmp_path / "backups"
    output.mkdir()
    with override("en"):
        with pytest.raises(CommandError, match="does not exist"):
            call_command("backup", "--output", str(tmp_path / "nowhere"))
        if connection.vendor == "postgresql":
            with pytest.raises(CommandError, match="pg_dump was not found"):
                call_command("backup", "--output", str(output), "--pg-bin", str(tmp_path))
            assert list(output.iterdir()) == []  # nothing half-written is left behind
        call_command("backup", "--output", str(output), stdout=io.StringIO())
        (folder,) = output.iterdir()
        manifest = json.loads((folder / MANIFEST).read_text())

        # Another engine's backup.
        other = {"postgresql": "sqlite", "sqlite": "postgresql"}[manifest["database"]["engine"]]
        (folder / MANIFEST).write_text(
            json.dumps({**manifest, "database": {**manifest["database"], "engine": other}})
        )
        with pytest.raises(CommandError, match=f"backup of a {other} database"):
            call_command("restore", "--input", str(folder))
        # A file missing, then the manifest.
        (folder / MANIFEST).write_text(json.dumps(manifest))
        (folder / manifest["database"]["file"]).unlink()
        with pytest.raises(CommandError, match=re.escape(f"has no {manifest['database']['file']}")):
            call_command("restore", "--input", str(folder))
        (folder / MANIFEST).unlink()
        with pytest.raises(CommandError, match=re.escape("has no manifest.json")):
            call_command("restore", "--input", str(folder))
        with pytest.raises(CommandError, match="does not exist"):
            call_command("restore", "--input", str(tmp_path / "nowhere"))


def test_a_restore_gives_the_catalogue_a_new_token(db, django_capture_on_commit_callbacks):
    """After a restore, what running processes keep (the catalogue, the lookup's answers read
    under the old token) no longer counts."""
    from django.core.cache import cache

    from portal.backups import _forget_what_processes_keep
    from procedures.catalogue_cache import VERSION_KEY

    cache.set(VERSION_KEY, "before the restore", timeout=None)
    with django_capture_on_commit_callbacks(execute=True):  # the test's transaction never does
        _forget_what_processes_keep()
    assert cache.get(VERSION_KEY) not in (None, "before the restore")
