"""The incidents app's models, one module per concern, all importable from here."""

from incidents.models.alerts import Alert, AlertDelivery, ApiToken, Integration
from incidents.models.attachments import Attachment
from incidents.models.incident import MAX_ID, Incident, LifecyclePolicy, Problem
from incidents.models.maintenance import MaintenanceWindow
from incidents.models.major import MajorIncident
from incidents.models.notifications import (
    InAppNotification,
    Notification,
    Profile,
    WebhookEndpoint,
)
from incidents.models.organisation import Area, Category, Service, Team
from incidents.models.priority import (
    DEFAULT_MATRIX,
    Impact,
    Priority,
    PriorityMatrixCell,
    Urgency,
    priority_for,
)
from incidents.models.sla import (
    BusinessCalendar,
    Holiday,
    SlaPolicy,
    SlaSpan,
    WorkingHours,
)
from incidents.models.status import (
    ComponentGroup,
    ComponentState,
    StatusComponent,
    StatusEntry,
    StatusImpact,
    StatusMessage,
    StatusPageSettings,
    StatusSubscriber,
    StatusVersion,
)
from incidents.models.timeline import (
    IncidentEvent,
    IncidentNote,
    ProblemEvent,
    StakeholderUpdate,
)

__all__ = [
    "DEFAULT_MATRIX",
    "MAX_ID",
    "Alert",
    "AlertDelivery",
    "ApiToken",
    "Attachment",
    "BusinessCalendar",
    "Holiday",
    "SlaPolicy",
    "SlaSpan",
    "WorkingHours",
    "InAppNotification",
    "Integration",
    "Area",
    "Category",
    "Impact",
    "Incident",
    "IncidentEvent",
    "IncidentNote",
    "LifecyclePolicy",
    "MaintenanceWindow",
    "MajorIncident",
    "Notification",
    "Priority",
    "PriorityMatrixCell",
    "Problem",
    "ProblemEvent",
    "Profile",
    "Service",
    "StakeholderUpdate",
    "ComponentGroup",
    "ComponentState",
    "StatusComponent",
    "StatusEntry",
    "StatusImpact",
    "StatusMessage",
    "StatusPageSettings",
    "StatusSubscriber",
    "StatusVersion",
    "Team",
    "Urgency",
    "WebhookEndpoint",
    "priority_for",
]
