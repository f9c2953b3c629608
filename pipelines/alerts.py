"""Run-failure alerts: who needs to know that a municipality's run failed, where, and why, never with a data value.

The message names the municipality, the job, the step that failed and the plain reason (the innermost error; a
database error's message may quote a value, so only its kind is sent: `pipelines.runner.root_cause`). The sink is
configuration: a webhook (JSON POST, e.g. a Teams/Slack/Mattermost incoming webhook) or mail through an SMTP relay.
"""

from __future__ import annotations

import os
import smtplib
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from typing import Protocol, Sequence

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pipelines.run_queue import PARTITION_TAG


@dataclass(frozen=True)
class FailureAlert:
    municipality: str
    municipality_name: str
    job: str
    run_id: str
    step: str
    reason: str

    @property
    def subject(self) -> str:
        return f"Toshav: run of municipality {self.municipality} ({self.municipality_name}) failed at {self.step}"

    @property
    def text(self) -> str:
        return (f"{self.subject}\njob: {self.job}\nreason: {self.reason}\nrun: {self.run_id} "
                "(the step's log in Dagster has the details)")


def failure_alert(run, step_failures: Sequence) -> FailureAlert:
    """The alert for a failed Dagster run from its record and its STEP_FAILURE events."""
    from connectors.reference import locality_name
    from pipelines.runner import root_cause

    municipality = run.tags.get(PARTITION_TAG, "")
    try:
        name = locality_name(int(municipality)) if municipality.isdigit() else ""
    except FileNotFoundError:
        name = ""
    if step_failures:
        first = step_failures[0]
        step, reason = first.step_key, root_cause(first.event_specific_data.error)
    else:
        step, reason = "run", "the run failed before or between steps (see the run's log in Dagster)"
    return FailureAlert(municipality=municipality or "(none)", municipality_name=name or municipality or "-",
                        job=run.job_name, run_id=run.run_id, step=step, reason=reason)


class AlertSink(Protocol):
    def send(self, alert: FailureAlert) -> None: ...


@dataclass(frozen=True)
class WebhookSink:
    url: str
    timeout: float = 10.0

    def send(self, alert: FailureAlert) -> None:
        session = requests.Session()
        retry = Retry(total=3, backoff_factor=1.0, status_forcelist=(429, 500, 502, 503, 504),
                      allowed_methods=frozenset({"POST"}))
        session.mount("http://", HTTPAdapter(max_retries=retry))
        session.mount("https://", HTTPAdapter(max_retries=retry))
        with session:
            session.post(self.url, json={"text": alert.text, **asdict(alert)},
                         timeout=self.timeout).raise_for_status()


@dataclass(frozen=True)
class MailSink:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]

    def send(self, alert: FailureAlert) -> None:
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = alert.subject, self.sender, ", ".join(self.recipients)
        message.set_content(alert.text)
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            smtp.send_message(message)


def alert_sink_from_env() -> AlertSink | None:
    """TOSHAV_ALERT_WEBHOOK_URL, or TOSHAV_ALERT_SMTP_HOST [+ _PORT] with TOSHAV_ALERT_MAIL_FROM and
    TOSHAV_ALERT_MAIL_TO (comma-separated); None when neither is set."""
    if url := os.environ.get("TOSHAV_ALERT_WEBHOOK_URL"):
        return WebhookSink(url)
    if host := os.environ.get("TOSHAV_ALERT_SMTP_HOST"):
        recipients = tuple(a.strip() for a in os.environ.get("TOSHAV_ALERT_MAIL_TO", "").split(",") if a.strip())
        if not recipients:
            raise ValueError("TOSHAV_ALERT_SMTP_HOST is set but TOSHAV_ALERT_MAIL_TO names no recipient")
        return MailSink(host, int(os.environ.get("TOSHAV_ALERT_SMTP_PORT", "25")),
                        os.environ.get("TOSHAV_ALERT_MAIL_FROM", "toshav@localhost"), recipients)
    return None
