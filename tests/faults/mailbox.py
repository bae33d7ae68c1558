"""An email backend for the worker processes of the fault tests: each message is
a file of its own in the folder named by ``FAULTS_MAILBOX``, so several processes
can send at once and a test counts exactly what was sent."""

from __future__ import annotations

import email
import os
import uuid
from collections import Counter
from collections.abc import Sequence
from email import policy
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

from incidents.models import Notification


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        folder = Path(os.environ["FAULTS_MAILBOX"])
        for message in email_messages:
            name = uuid.uuid4().hex
            part = folder / f"{name}.part"
            part.write_bytes(message.message().as_bytes())
            part.rename(folder / f"{name}.eml")  # whole, or not there at all
        return len(email_messages)


def sent(folder: Path) -> list[tuple[str, str]]:
    """(recipient, subject) of every message sent to ``folder``."""
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in folder.glob("*.eml")
    ]
    return sorted((str(m["To"]), str(m["Subject"])) for m in messages)


def mail_env(tmp_path: Path) -> dict[str, str]:
    """Settings of the processes that send: mail into a folder, sweeps every
    second."""
    mailbox = tmp_path / "mail"
    mailbox.mkdir()
    return {
        "EMAIL_BACKEND": "tests.faults.mailbox.EmailBackend",
        "FAULTS_MAILBOX": str(mailbox),
        "NOTIFICATION_SWEEP_SECONDS": "1",
        "SLA_SWEEP_SECONDS": "1",
    }


def assert_each_notified_once(mailbox: Path) -> None:
    """Every notification row is sent, none twice, and the mail matches the rows."""
    rows = Notification.objects.values_list("incident_id", "event", "recipient")
    assert max(Counter(rows).values()) == 1
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    mail = sent(mailbox)
    assert len(mail) == len(set(mail)) == len(rows)
