"""Alertmanager routing, playbook "Alerting Channels": critical to PagerDuty, warning to
Slack, every alert to email.

The configuration holds no credential: the PagerDuty routing key, the Slack webhook URL,
the SMTP password and the heartbeat URL live in their own Secret, which the operator mounts
into every Alertmanager pod (``alertmanagerSpec.secrets``), and the configuration points at
the files (``*_file``). So the configuration itself is the same text offline and in the cluster, and
``amtool check-config`` checks exactly what runs.

Two fields of the playbook's snippet are not Alertmanager's: ``email_configs`` has no
``subject`` (the subject is the ``Subject`` header) and no ``body`` (``text`` or ``html``);
amtool refuses both, so the same values go where Alertmanager reads them.

The always-firing Watchdog is the dead man's switch (kube-prometheus runbook "Watchdog";
PromLabs, "End-to-End Watchdog Alerts"): with a heartbeat URL it goes every minute to an
external service (Healthchecks.io, Dead Man's Snitch, PagerDuty's heartbeats), which pages
when the pings stop, so an Alertmanager, a Prometheus, a cluster or a region that is gone
is noticed from outside. The webhook reads its URL from a file (``url_file``, Alertmanager
0.26 and later; the chart runs v0.34). It does not send resolved notifications: a Watchdog
that stops firing must read as silence, not as one more ping.
"""

from __future__ import annotations

from typing import Any

import yaml

from components.settings import AlertingSettings

CREDENTIALS_SECRET = "alertmanager-credentials"
CONFIG_SECRET = "alertmanager-config"
CONFIG_KEY = "alertmanager.yaml"  # the key prometheus-operator reads from configSecret
# prometheus-operator mounts each Secret of alertmanagerSpec.secrets here.
SECRETS_DIR = f"/etc/alertmanager/secrets/{CREDENTIALS_SECRET}"
PAGERDUTY_KEY = "pagerduty-routing-key"
SLACK_KEY = "slack-webhook-url"
SMTP_PASSWORD_KEY = "smtp-password"
HEARTBEAT_KEY = "heartbeat-url"

NULL = "null"
PAGERDUTY = "pagerduty-critical"
SLACK = "slack-warnings"
EMAIL = "email-alerts"
HEARTBEAT = "watchdog-heartbeat"

# kube-prometheus-stack's default rules include Watchdog, which always fires (a dead man's
# switch for an external heartbeat), and InfoInhibitor, which only mutes info alerts:
# neither is for a person. Watchdog goes to the heartbeat where there is one; otherwise,
# and InfoInhibitor always, they end in a receiver without integrations.
ALWAYS_FIRING = ("Watchdog", "InfoInhibitor")
WATCHDOG = ALWAYS_FIRING[0]
# The heartbeat: sent at once, then every minute (a repeat waits for the group's interval,
# so both are one minute). The external service expects a ping a minute, with a few
# minutes' grace for an Alertmanager pod's restart.
HEARTBEAT_INTERVAL = "1m"

GROUP_BY = ("alertname", "namespace", "severity")
GROUP_WAIT = "30s"
GROUP_INTERVAL = "5m"
# A page repeats hourly while it fires; a warning twice a working day; email twice a day.
REPEAT_INTERVALS = {PAGERDUTY: "1h", SLACK: "4h", EMAIL: "12h"}
# Labels that identify an alert's target: a critical alert silences the warning of the
# same alert on the same target (CertificateExpiringSoon at 7 and 30 days, replica lag,
# burn rates). A label neither alert has counts as equal.
INHIBIT_EQUAL = (
    "alertname",
    "namespace",
    "instance",
    "pod",
    "container",
    "service",
    "slo",
    "cronjob",
    "dimension_DBInstanceIdentifier",
)


def credentials(settings: AlertingSettings) -> dict[str, Any]:
    """Secret key -> Secret setting, for the credentials the stack has."""
    present = {
        PAGERDUTY_KEY: settings.pagerduty_routing_key,
        SLACK_KEY: settings.slack_webhook_url,
        SMTP_PASSWORD_KEY: settings.smtp_password,
        HEARTBEAT_KEY: settings.heartbeat_url,
    }
    return {key: value for key, value in present.items() if value is not None}


def alertmanager_config(settings: AlertingSettings) -> dict[str, Any]:
    have = credentials(settings)
    smtp: dict[str, Any] = {
        "smtp_smarthost": settings.smtp_smarthost,
        "smtp_from": settings.email_from,
        "smtp_require_tls": True,
    }
    if SMTP_PASSWORD_KEY in have:
        smtp["smtp_auth_username"] = settings.smtp_username
        smtp["smtp_auth_password_file"] = f"{SECRETS_DIR}/{SMTP_PASSWORD_KEY}"
    receivers: list[dict[str, Any]] = [
        {"name": NULL},
        {
            "name": EMAIL,
            "email_configs": [
                {
                    "to": ", ".join(settings.email_to),
                    "send_resolved": True,
                    "headers": {"Subject": "Tractus-X Alert: {{ .GroupLabels.alertname }}"},
                    "text": "{{ range .Alerts }}{{ .Annotations.description }}\n{{ end }}",
                }
            ],
        },
    ]
    routes: list[dict[str, Any]] = []
    if HEARTBEAT_KEY in have:
        receivers.append(
            {
                "name": HEARTBEAT,
                "webhook_configs": [{"url_file": f"{SECRETS_DIR}/{HEARTBEAT_KEY}", "send_resolved": False}],
            }
        )
        routes.append(
            {
                "receiver": HEARTBEAT,
                "matchers": [f'alertname="{WATCHDOG}"'],
                "group_wait": "0s",
                "group_interval": HEARTBEAT_INTERVAL,
                "repeat_interval": HEARTBEAT_INTERVAL,
            }
        )
    # InfoInhibitor, and Watchdog without a heartbeat, notify nobody.
    routes.append({"receiver": NULL, "matchers": [f'alertname=~"{"|".join(ALWAYS_FIRING)}"']})
    if PAGERDUTY_KEY in have:
        receivers.append(
            {
                "name": PAGERDUTY,
                "pagerduty_configs": [
                    {
                        "routing_key_file": f"{SECRETS_DIR}/{PAGERDUTY_KEY}",
                        "severity": "critical",
                        "client": "Tractus-X Monitoring",
                        "send_resolved": True,
                    }
                ],
            }
        )
        routes.append(_route(PAGERDUTY, 'severity="critical"'))
    if SLACK_KEY in have:
        receivers.append(
            {
                "name": SLACK,
                "slack_configs": [
                    {
                        "api_url_file": f"{SECRETS_DIR}/{SLACK_KEY}",
                        "channel": settings.slack_channel,
                        "title": "Tractus-X Alert",
                        "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}",
                        "send_resolved": True,
                    }
                ],
            }
        )
        routes.append(_route(SLACK, 'severity="warning"'))
    # Last, and matching everything: every alert also goes to email.
    routes.append({"receiver": EMAIL, "repeat_interval": REPEAT_INTERVALS[EMAIL]})
    return {
        "global": {"resolve_timeout": "5m", **smtp},
        "route": {
            "receiver": EMAIL,
            "group_by": list(GROUP_BY),
            "group_wait": GROUP_WAIT,
            "group_interval": GROUP_INTERVAL,
            "repeat_interval": REPEAT_INTERVALS[EMAIL],
            "routes": routes,
        },
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": list(INHIBIT_EQUAL),
            }
        ],
        "receivers": receivers,
    }


def _route(receiver: str, matcher: str) -> dict[str, Any]:
    # continue: the alert goes on to the email route after this one.
    return {
        "receiver": receiver,
        "matchers": [matcher],
        "continue": True,
        "repeat_interval": REPEAT_INTERVALS[receiver],
    }


def alertmanager_yaml(settings: AlertingSettings) -> str:
    return yaml.safe_dump(alertmanager_config(settings), sort_keys=False, width=200)
