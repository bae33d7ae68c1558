"""Who speaks for an incident on the public status page.

One rule, used by the services (which refuse) and the pages (which offer the
forms only to those allowed): holders of ``publish_statusentry``, the incident
managers. When major incidents get an incident commander, this is the one place
to let the commander of ``incident`` publish too.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from incidents.models import Incident

PUBLISH_PERMISSION = "incidents.publish_statusentry"
MAINTENANCE_PERMISSION = "incidents.add_maintenancewindow"


def may_publish(user: AbstractBaseUser | AnonymousUser, incident: Incident) -> bool:
    """Whether ``user`` may publish ``incident`` on the status page, post its
    public messages, edit its words, resolve or dismiss it."""
    return user.is_active and user.has_perm(PUBLISH_PERMISSION)
