from django.contrib.postgres.operations import CreateExtension
from django.db import migrations

# PostgreSQL only: the GIN index on the articles' stored search vector, and the
# trigram index on the vocabulary a mistyped word is corrected against (pg_trgm's
# % operator and similarity(); short words use fuzzystrmatch's levenshtein). Other
# databases search without them (kb.search); the model state does not know these
# indexes, so makemigrations stays quiet.
INDEXES = [
    (
        'CREATE INDEX IF NOT EXISTS "article_search_vector" '
        'ON "kb_article" USING gin ("search_vector")',
        'DROP INDEX IF EXISTS "article_search_vector"',
    ),
    (
        'CREATE INDEX IF NOT EXISTS "search_term_trgm" '
        'ON "kb_searchterm" USING gin ("word" gin_trgm_ops)',
        'DROP INDEX IF EXISTS "search_term_trgm"',
    ),
]


class KeptExtension(CreateExtension):
    """Created if missing (PostgreSQL only, as CreateExtension does), and left in
    place when migrating back: other objects (the incidents' trigram indexes) may
    use it."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for create, _ in INDEXES:
        schema_editor.execute(create)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _, drop in INDEXES:
        schema_editor.execute(drop)


class Migration(migrations.Migration):

    dependencies = [
        ("kb", "0001_knowledge_base"),
    ]

    operations = [
        # Both trusted extensions since PostgreSQL 13: the database owner may
        # create them.
        KeptExtension("pg_trgm"),
        KeptExtension("fuzzystrmatch"),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
