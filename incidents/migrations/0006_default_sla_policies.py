import datetime

from django.conf import settings
from django.db import migrations

# Copies, not imports: migrations must not depend on app code that may change.
HOUR = 60
POLICIES = [
    # priority, calendar, respond minutes, resolve minutes, update every
    (1, "24x7", 15, 4 * HOUR, 30),
    (2, "24x7", 30, 8 * HOUR, 60),
    (3, "Office hours", 4 * HOUR, 3 * 8 * HOUR, None),  # 4 business hours, 3 days
    (4, "Office hours", 8 * HOUR, 5 * 8 * HOUR, None),  # 1 business day, 5 days
]


def load_defaults(apps, schema_editor):
    Calendar = apps.get_model("incidents", "BusinessCalendar")
    WorkingHours = apps.get_model("incidents", "WorkingHours")
    Policy = apps.get_model("incidents", "SlaPolicy")
    always, _ = Calendar.objects.get_or_create(
        name="24x7", defaults={"is_24x7": True, "time_zone": settings.TIME_ZONE}
    )
    office, created = Calendar.objects.get_or_create(
        name="Office hours", defaults={"time_zone": settings.TIME_ZONE}
    )
    if created:
        for weekday in range(5):
            WorkingHours.objects.create(
                calendar=office,
                weekday=weekday,
                opens=datetime.time(9),
                closes=datetime.time(17),
            )
    calendars = {"24x7": always, "Office hours": office}
    for priority, calendar, respond, resolve, update in POLICIES:
        Policy.objects.get_or_create(
            priority=priority,
            defaults={
                "calendar": calendars[calendar],
                "respond_minutes": respond,
                "resolve_minutes": resolve,
                "update_every_minutes": update,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0005_sla")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
