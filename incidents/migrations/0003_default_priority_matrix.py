from django.db import migrations

# The default Impact x Urgency matrix (a copy: migrations must not import app code).
DEFAULT = [
    ("high", "high", 1),
    ("high", "medium", 2),
    ("high", "low", 3),
    ("medium", "high", 2),
    ("medium", "medium", 3),
    ("medium", "low", 4),
    ("low", "high", 3),
    ("low", "medium", 4),
    ("low", "low", 4),
]


def load_default_matrix(apps, schema_editor):
    Cell = apps.get_model("incidents", "PriorityMatrixCell")
    for impact, urgency, priority in DEFAULT:
        Cell.objects.get_or_create(
            impact=impact, urgency=urgency, defaults={"priority": priority}
        )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_incident_lifecycle")]

    operations = [migrations.RunPython(load_default_matrix, migrations.RunPython.noop)]
