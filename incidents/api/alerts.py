"""Alert intake endpoints: Prometheus Alertmanager, Grafana, PagerDuty Events v2 and
our generic JSON. Each validates its sender's format, turns it into signals and
hands them to ``alert_accept``; the answer (202) is sent once the alerts and the
delivery are written, and a worker opens new alerts' incidents right after."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from typing import Any, ClassVar

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.authentication import (
    IntegrationTokenAuthentication,
    PagerDutyTokenAuthentication,
)
from incidents.api.fast_input import validated_or_none
from incidents.api.parsers import BoundedJSONParser
from incidents.api.throttling import IntegrationRateThrottle
from incidents.models import AlertDelivery, Integration
from incidents.services.alerts import AlertSignal, alert_accept


def _labels() -> serializers.DictField:
    return serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )


def _text(max_length: int | None = None) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, default="", max_length=max_length
    )


def fingerprint_of(labels: dict[str, str]) -> str:
    """A stable key from an alert's labels, as Alertmanager's own fingerprint is."""
    canonical = json.dumps(labels, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


# ---------------------------------------------------------------- Alertmanager, Grafana
class AlertmanagerAlertSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["firing", "resolved"])
    labels = _labels()
    annotations = _labels()
    startsAt = serializers.DateTimeField(required=False)  # noqa: N815 - sender's names
    endsAt = _text()  # noqa: N815 - "0001-01-01T00:00:00Z" while firing
    generatorURL = _text()  # noqa: N815
    fingerprint = _text(max_length=255)


class AlertmanagerPayloadSerializer(serializers.Serializer):
    version = _text()
    groupKey = _text()  # noqa: N815
    truncatedAlerts = serializers.IntegerField(required=False, min_value=0)  # noqa: N815
    status = serializers.ChoiceField(choices=["firing", "resolved"])
    receiver = _text()
    groupLabels = _labels()  # noqa: N815
    commonLabels = _labels()  # noqa: N815
    commonAnnotations = _labels()  # noqa: N815
    externalURL = _text()  # noqa: N815
    alerts = AlertmanagerAlertSerializer(many=True, allow_empty=False)


class GrafanaAlertSerializer(AlertmanagerAlertSerializer):
    values = serializers.DictField(required=False, allow_null=True)
    valueString = _text()  # noqa: N815
    dashboardURL = _text()  # noqa: N815
    panelURL = _text()  # noqa: N815
    silenceURL = _text()  # noqa: N815
    imageURL = _text()  # noqa: N815


class GrafanaPayloadSerializer(AlertmanagerPayloadSerializer):
    title = _text()
    state = _text()
    message = _text()
    orgId = serializers.IntegerField(required=False)  # noqa: N815
    alerts = GrafanaAlertSerializer(many=True, allow_empty=False)


def _link(href: Any, text: str) -> dict[str, str] | None:
    return {"href": href, "text": text} if isinstance(href, str) and href else None


# The link fields each sender puts on an alert, with how the panel names them.
_ALERT_LINKS = (
    ("generatorURL", "Source"),
    ("dashboardURL", "Dashboard"),
    ("panelURL", "Panel"),
    ("silenceURL", "Silence"),
    ("imageURL", "Image"),
)
_ANNOTATION_LINKS = (("runbook_url", "Runbook"), ("runbook", "Runbook"))


def _group_key(data: dict[str, Any]) -> str:
    """Alertmanager's groupKey, or (Grafana without one) its group labels."""
    if data.get("groupKey"):
        return data["groupKey"][:255]
    labels = data.get("groupLabels") or {}
    return json.dumps(labels, sort_keys=True)[:255] if labels else ""


def alertmanager_signals(data: dict[str, Any]) -> list[AlertSignal]:
    """Alertmanager's and Grafana's alerts (Grafana's webhook has the same shape
    with more link fields)."""
    signals = []
    group = _group_key(data)
    for alert in data["alerts"]:
        labels = {**data["commonLabels"], **alert["labels"]}
        annotations = {**data["commonAnnotations"], **alert["annotations"]}
        links = [
            _link(annotations.get(name), text) for name, text in _ANNOTATION_LINKS
        ] + [_link(alert.get(name), text) for name, text in _ALERT_LINKS]
        signals.append(
            AlertSignal(
                dedup_key=alert["fingerprint"] or fingerprint_of(labels),
                status=alert["status"],
                title=annotations.get("summary") or labels.get("alertname", ""),
                description=annotations.get("description", ""),
                severity=labels.get("severity", ""),
                service=labels.get("service", ""),
                started_at=alert.get("startsAt"),
                labels=labels,
                annotations=annotations,
                links=[link for link in links if link],
                group_key=group,
            )
        )
    return signals


# ---------------------------------------------------------------- PagerDuty Events v2
class PagerDutyDetailsSerializer(serializers.Serializer):
    summary = serializers.CharField(max_length=1024)
    source = serializers.CharField(max_length=255)
    severity = serializers.ChoiceField(choices=["critical", "error", "warning", "info"])
    timestamp = serializers.DateTimeField(required=False)
    component = _text()
    group = _text()
    custom_details = serializers.JSONField(required=False)
    locals()["class"] = _text()  # "class" is a Python keyword


class PagerDutyEventSerializer(serializers.Serializer):
    routing_key = _text()
    event_action = serializers.ChoiceField(
        choices=["trigger", "acknowledge", "resolve"]
    )
    dedup_key = _text(max_length=255)
    payload = PagerDutyDetailsSerializer(required=False)
    links = serializers.ListField(child=serializers.DictField(), required=False)
    images = serializers.ListField(child=serializers.DictField(), required=False)
    client = _text()
    client_url = _text()

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["event_action"] == "trigger" and "payload" not in data:
            raise serializers.ValidationError({"payload": "A trigger needs a payload."})
        if data["event_action"] != "trigger" and not data["dedup_key"]:
            raise serializers.ValidationError(
                {"dedup_key": f"'{data['event_action']}' needs the dedup_key."}
            )
        return data


_PD_STATUS = {"trigger": "firing", "resolve": "resolved", "acknowledge": "acknowledged"}


def _pagerduty_links(data: dict[str, Any]) -> list[dict[str, str]]:
    """PagerDuty's links, its images (as links: never loaded inline) and the
    client's own page."""
    links = [
        _link(item.get("href"), item.get("text") or "Link")
        for item in data.get("links", [])
    ]
    for image in data.get("images", []):
        links.append(_link(image.get("href"), image.get("alt") or "Image link"))
        links.append(_link(image.get("src"), image.get("alt") or "Image"))
    links.append(_link(data.get("client_url"), data.get("client") or "Client"))
    return [link for link in links if link]


def pagerduty_signals(data: dict[str, Any]) -> list[AlertSignal]:
    details = data.get("payload", {})
    custom = details.get("custom_details")
    return [
        AlertSignal(
            dedup_key=data["dedup_key"],
            status=_PD_STATUS[data["event_action"]],
            title=details.get("summary", ""),
            description=json.dumps(custom, indent=2) if custom is not None else "",
            severity=details.get("severity", ""),
            service=details.get("component", ""),
            started_at=details.get("timestamp"),
            labels={
                key: details[key]
                for key in ("source", "component", "group", "class")
                if details.get(key)
            },
            annotations={"summary": details["summary"]}
            if details.get("summary")
            else {},
            links=_pagerduty_links(data),
            group_key=details.get("group", "")[:255],
        )
    ]


# ---------------------------------------------------------------- generic JSON
class GenericAlertSerializer(serializers.Serializer):
    """Our own format: one alert per request."""

    dedup_key = serializers.CharField(max_length=255)
    status = serializers.ChoiceField(choices=["firing", "resolved"], default="firing")
    title = _text(max_length=200)
    description = _text()
    severity = _text(max_length=32)
    service = _text(max_length=100)
    source = _text(max_length=255)
    labels = _labels()
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False)
    links = serializers.ListField(child=serializers.CharField(), required=False)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["status"] == "firing" and not data["title"].strip():
            raise serializers.ValidationError(
                {"title": "A firing alert needs a title."}
            )
        return data


def generic_signals(data: dict[str, Any]) -> list[AlertSignal]:
    return [
        AlertSignal(
            dedup_key=data["dedup_key"],
            status=data["status"],
            title=data["title"],
            description=data["description"],
            severity=data["severity"],
            service=data["service"],
            started_at=data.get("starts_at"),
            labels=data["labels"],
            annotations={k: data[k] for k in ("title", "description") if data[k]},
            links=[
                link
                for n, href in enumerate(data.get("links", []))
                if (link := _link(href, f"Link {n + 1}"))
            ],
            group_key=data["source"],
        )
    ]


# ---------------------------------------------------------------- views
class IntegrationOfKind(BasePermission):
    """The token must be an integration of the endpoint's kind."""

    def has_permission(self, request: Request, view: Any) -> bool:
        integration = request.auth
        if not isinstance(integration, Integration):
            return False
        if integration.kind != view.kind:
            self.message = (
                f"This token belongs to a {integration.get_kind_display()} "
                f"integration; post to {view.path_for(integration.kind)}."
            )
            return False
        return True


class DeliveryOutputSerializer(serializers.Serializer):
    status = serializers.CharField()
    delivery = serializers.UUIDField()
    alerts = serializers.ListField(child=serializers.DictField())


class AlertIntakeApi(APIView):
    """Base of the intake endpoints. Checks, in order: JSON content type (415), body
    size (413), token (401; 403 if disabled or of another kind), rate (429), then
    the body (400 with field errors). Nothing is written unless all pass."""

    kind: ClassVar[str]
    input_serializer: ClassVar[type[serializers.Serializer]]
    authentication_classes = [IntegrationTokenAuthentication]
    permission_classes = [IntegrationOfKind]
    parser_classes = [BoundedJSONParser]
    throttle_classes = [IntegrationRateThrottle]
    PATHS: ClassVar[dict[str, str]] = {
        Integration.Kind.ALERTMANAGER: "/api/v1/alerts/alertmanager/",
        Integration.Kind.GRAFANA: "/api/v1/alerts/grafana/",
        Integration.Kind.PAGERDUTY: "/api/v1/alerts/pagerduty/",
        Integration.Kind.GENERIC: "/api/v1/alerts/",
    }

    @classmethod
    def path_for(cls, kind: str) -> str:
        return cls.PATHS[kind]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # A sender's GET is answered 405 with ``Allow`` before the token or the
        # content type is looked at: what it got wrong is the method.
        if request.method not in ("POST", "OPTIONS"):
            raise exceptions.MethodNotAllowed(request.method)
        if (
            request.method == "POST"
            and request.content_type.split(";")[0].strip().lower() != "application/json"
        ):
            raise exceptions.UnsupportedMediaType(request.content_type or "(none)")
        super().initial(request, *args, **kwargs)

    def to_signals(self, data: dict[str, Any]) -> list[AlertSignal]:
        raise NotImplementedError

    def validated(self, body: Any) -> dict[str, Any]:
        """The body as the input serializer validates it (400 if it is invalid).
        A plainly valid body is checked without the serializer's per-request
        copies of its fields; anything else, every invalid body included, goes
        through the serializer itself, so its answers are DRF's own."""
        data = validated_or_none(self.input_serializer, body)
        if data is None:
            serializer = self.input_serializer(data=body)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        return data

    def ingest(self, request: Request) -> tuple[AlertDelivery, dict[str, Any]]:
        data = self.validated(request.data)
        delivery = alert_accept(
            integration=request.auth,
            signals=self.to_signals(data),
            payload=request.data,
        )
        return delivery, data

    def post(self, request: Request) -> Response:
        delivery, _ = self.ingest(request)
        alerts = [
            {**o, "incident": f"INC-{o['incident']:06d}" if o["incident"] else None}
            for o in delivery.outcomes
        ]
        return Response(
            {"status": "accepted", "delivery": delivery.pk, "alerts": alerts},
            status=status.HTTP_202_ACCEPTED,
        )


_ACCEPTED = {202: DeliveryOutputSerializer}
_ERRORS = {
    400: OpenApiResponse(description="Invalid body: the field errors."),
    401: OpenApiResponse(description="Missing or unknown token."),
    403: OpenApiResponse(description="Integration disabled or of another kind."),
    405: OpenApiResponse(description="Not POST (the Allow header says so)."),
    413: OpenApiResponse(description="Body over 1 MiB."),
    415: OpenApiResponse(description="Not application/json."),
    429: OpenApiResponse(description="Over the integration's rate limit."),
}


class AlertmanagerAlertsApi(AlertIntakeApi):
    kind = Integration.Kind.ALERTMANAGER
    input_serializer = AlertmanagerPayloadSerializer

    def to_signals(self, data: dict[str, Any]) -> list[AlertSignal]:
        return alertmanager_signals(data)

    @extend_schema(
        request=AlertmanagerPayloadSerializer,
        responses={**_ACCEPTED, **_ERRORS},
        summary="Prometheus Alertmanager webhook (payload version 4)",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class GrafanaAlertsApi(AlertIntakeApi):
    kind = Integration.Kind.GRAFANA
    input_serializer = GrafanaPayloadSerializer

    def to_signals(self, data: dict[str, Any]) -> list[AlertSignal]:
        return alertmanager_signals(data)

    @extend_schema(
        request=GrafanaPayloadSerializer,
        responses={**_ACCEPTED, **_ERRORS},
        summary="Grafana alerting webhook contact point",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class GenericAlertsApi(AlertIntakeApi):
    kind = Integration.Kind.GENERIC
    input_serializer = GenericAlertSerializer

    def to_signals(self, data: dict[str, Any]) -> list[AlertSignal]:
        return generic_signals(data)

    @extend_schema(
        request=GenericAlertSerializer,
        responses={**_ACCEPTED, **_ERRORS},
        summary="Generic JSON alert",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class PagerDutyAcceptedSerializer(serializers.Serializer):
    status = serializers.CharField()
    message = serializers.CharField()
    dedup_key = serializers.CharField()


class PagerDutyEventsApi(AlertIntakeApi):
    """PagerDuty Events API v2, answered as PagerDuty answers, so any tool with a
    "send to PagerDuty" option works unchanged (routing_key = our token)."""

    kind = Integration.Kind.PAGERDUTY
    input_serializer = PagerDutyEventSerializer
    authentication_classes = [PagerDutyTokenAuthentication]

    def to_signals(self, data: dict[str, Any]) -> list[AlertSignal]:
        return pagerduty_signals(data)

    @extend_schema(
        request=PagerDutyEventSerializer,
        responses={202: PagerDutyAcceptedSerializer, **_ERRORS},
        summary="PagerDuty Events API v2",
    )
    def post(self, request: Request) -> Response:
        body = request.data
        if (
            isinstance(body, dict)
            and body.get("event_action") == "trigger"
            and not body.get("dedup_key")
        ):
            # PagerDuty makes up a key for a trigger without one, and returns it;
            # an acknowledge or resolve without one is invalid (400), as there.
            body["dedup_key"] = uuid.uuid4().hex
        delivery, data = self.ingest(request)
        return Response(
            {
                "status": "success",
                "message": "Event processed",
                "dedup_key": data["dedup_key"],
            },
            status=status.HTTP_202_ACCEPTED,
        )

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if response.status_code == 400:
            errors = [
                f"{field}: {problem}" for field, problem in _flatten(response.data)
            ]
            response.data = {
                "status": "invalid event",
                "message": "Event object is invalid",
                "errors": errors,
            }
        return response


def _flatten(detail: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(detail, dict):
        pairs = []
        for key, value in detail.items():
            pairs += _flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return pairs
    if isinstance(detail, list):
        return [pair for item in detail for pair in _flatten(item, prefix)]
    return [(prefix or "body", str(detail))]


# ---------------------------------------------------------------- the test page
VIEWS: dict[str, type[AlertIntakeApi]] = {
    Integration.Kind.ALERTMANAGER: AlertmanagerAlertsApi,
    Integration.Kind.GRAFANA: GrafanaAlertsApi,
    Integration.Kind.PAGERDUTY: PagerDutyEventsApi,
    Integration.Kind.GENERIC: GenericAlertsApi,
}

SAMPLES: dict[str, dict[str, Any]] = {
    Integration.Kind.ALERTMANAGER: {
        "version": "4",
        "groupKey": '{}:{alertname="HighCPU"}',
        "status": "firing",
        "receiver": "itsm",
        "groupLabels": {"alertname": "HighCPU"},
        "commonLabels": {"alertname": "HighCPU", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "HighCPU",
                    "severity": "critical",
                    "instance": "web-1:9100",
                    "job": "node",
                },
                "annotations": {
                    "summary": "CPU above 90% on web-1",
                    "runbook_url": "https://runbooks.example.com/high-cpu",
                },
                "startsAt": "2026-11-27T07:50:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example.com:9090/graph",
                "fingerprint": "5f1e0c9a7b3d2e41",
            }
        ],
    },
    Integration.Kind.PAGERDUTY: {
        "routing_key": "(your token)",
        "event_action": "trigger",
        "dedup_key": "db-1/disk",
        "payload": {
            "summary": "Disk full on db-1",
            "source": "db-1.example.com",
            "severity": "critical",
        },
        "links": [{"href": "https://grafana.example.com/d/abc", "text": "Dashboard"}],
    },
    Integration.Kind.GENERIC: {
        "dedup_key": "backup-nightly",
        "status": "firing",
        "title": "Nightly backup did not run",
        "severity": "error",
    },
}
SAMPLES[Integration.Kind.GRAFANA] = {
    **SAMPLES[Integration.Kind.ALERTMANAGER],
    "title": "[FIRING:1] HighCPU",
    "alerts": [
        {
            **SAMPLES[Integration.Kind.ALERTMANAGER]["alerts"][0],
            "dashboardURL": "http://grafana.example.com/d/abc",
            "panelURL": "http://grafana.example.com/d/abc?viewPanel=2",
            "silenceURL": "http://grafana.example.com/alerting/silence/new",
        }
    ],
}


def signals_from_text(kind: str, text: str) -> tuple[list[AlertSignal], list[str]]:
    """The signals a pasted body yields, checked exactly as the endpoint checks
    it; or the reasons it would be refused (as the 400 would say)."""
    try:
        body = BoundedJSONParser().parse(io.BytesIO(text.encode()), None, {})
    except exceptions.APIException as exc:
        return [], [str(exc.detail)]
    view = VIEWS[kind]()
    if (
        kind == Integration.Kind.PAGERDUTY
        and isinstance(body, dict)
        and body.get("event_action") == "trigger"
        and not body.get("dedup_key")
    ):
        body["dedup_key"] = "(made up on delivery)"
    try:
        data = view.validated(body)
    except exceptions.ValidationError as exc:
        return [], [f"{field}: {problem}" for field, problem in _flatten(exc.detail)]
    return view.to_signals(data), []
