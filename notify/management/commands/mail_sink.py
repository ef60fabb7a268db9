"""`manage.py mail_sink [--port 1025] [--dir var/mail]`: a local SMTP server that writes each
message to `<dir>/<timestamp>-<n>.eml` and delivers nothing (development and demos)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from notify.mailsink import MailSink, start


class Command(BaseCommand):
    help = "Run a local SMTP sink that keeps every message as an .eml file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=1025)
        parser.add_argument("--dir", default=str(Path(settings.BASE_DIR) / "var" / "mail"))

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["dir"])
        host, port = options["host"], options["port"]
        controller = start(MailSink(directory=directory), host=host, port=port)
        self.stdout.write(f"mail sink on smtp://{options['host']}:{options['port']} → {directory}/")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
