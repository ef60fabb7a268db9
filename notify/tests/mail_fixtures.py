"""An SMTP server in the test process (aiosmtpd, a free port), loaded by the root conftest.

    def test_x(mailbox, smtp):      # `mailbox`: emptied before the test; `smtp`: this process
        ...                          # sends through it (the worker always does)
        mailbox.messages[0]["Subject"]
        mailbox.refuse("451 4.3.0 Try again later", times=1)

The server is session-wide so the session's Celery worker (shipments/tests/worker_fixtures.py)
gets its address in `EMAIL_URL` whenever it starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from harness.ports import HOST, free_port
from notify.mailsink import MailSink, start


@dataclass
class MailServer:
    sink: MailSink
    port: int

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"


@pytest.fixture(scope="session")
def mail_server() -> Iterator[MailServer]:
    sink = MailSink()
    port = free_port()
    controller = start(sink, host=HOST, port=port)
    try:
        yield MailServer(sink=sink, port=port)
    finally:
        controller.stop()


@pytest.fixture
def mailbox(mail_server: MailServer) -> MailSink:
    mail_server.sink.clear()
    return mail_server.sink


@pytest.fixture
def smtp(mail_server: MailServer, settings: Any) -> MailServer:
    """This process sends over SMTP to the test server (pytest-django otherwise keeps mail in
    memory)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = HOST
    settings.EMAIL_PORT = mail_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    return mail_server
