"""The one date-time format of the service (console, portal, emails), e.g.
"Mon 2 Mar 2026, 10:00 CET": the day, the date, 24-hour time and the time zone,
never seconds. Chosen over the English locale's "March 2, 2026, 10 a.m.", which
drops the zone, and over ISO 8601, which people misread."""

DATETIME_FORMAT = "D j M Y, H:i T"
SHORT_DATETIME_FORMAT = "j M, H:i T"
DATE_FORMAT = "D j M Y"
SHORT_DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
