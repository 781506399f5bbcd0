"""Trigram indexes for the worklist's search box on PostgreSQL: the code, the phone and the
applicant's name without diacritics are searched as substrings (``LIKE '%…%'``), which a B-tree
cannot serve. Each index matches the expression the ORM writes: ``UPPER(code::text)`` for the
case-insensitive code, the plain column for the others. Other databases scan, as before.

On a large table each index takes minutes to build and blocks writes meanwhile; on a live
province database build them first by hand with ``CREATE INDEX CONCURRENTLY`` (same names),
after which this migration finds them and does nothing (docs/scaling.md).
"""

from django.db import migrations

INDEXES = {
    "dossier_code_trgm": "UPPER(code) gin_trgm_ops",
    "dossier_phone_trgm": "applicant_phone gin_trgm_ops",
    "dossier_applicant_trgm": "applicant_search gin_trgm_ops",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON dossiers_dossier USING gin ({expression})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0008_submission_key_per_submitter")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
