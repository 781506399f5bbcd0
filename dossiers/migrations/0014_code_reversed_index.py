"""A code's day and number ("241127-0026", off a receipt) searched as the end of the code: the
beginning of the reversed code, which a B-tree with the pattern operator class serves on
PostgreSQL (``dossiers.lookups.EndsWithCode``). Measured at ten million dossiers: the trigram
index took 150 ms for such a text (every code shares its digits' trigrams). As with 0009,
build it first with ``CREATE INDEX CONCURRENTLY`` on a live province."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS dossier_code_reversed ON dossiers_dossier "
        "((reverse(code::text)) text_pattern_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS dossier_code_reversed")


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0013_procedure_unit_received_index")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
