"""The applicant's name searched by words on PostgreSQL (``dossiers.lookups.Words``): a GIN
full-text index on the search key replaces the trigram one, which was slow for names (their
syllables are few and shared: a full name took 200 ms at ten million dossiers, by words a few).
As with 0009, on a live province build it first with ``CREATE INDEX CONCURRENTLY``."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS dossier_applicant_words ON dossiers_dossier "
        "USING gin (to_tsvector('simple', applicant_search))"
    )
    schema_editor.execute("DROP INDEX IF EXISTS dossier_applicant_trgm")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS dossier_applicant_words")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS dossier_applicant_trgm ON dossiers_dossier "
        "USING gin (applicant_search gin_trgm_ops)"
    )


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0010_received_index")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
