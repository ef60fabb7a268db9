"""`manage.py carrier_sandbox [--port 8100] [--latency-ms 0] [--host 127.0.0.1] [--epoch ISO]`"""

from __future__ import annotations

import datetime as dt
import logging
import signal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from carrier_sandbox.app import Sandbox
from carrier_sandbox.push import PushTarget
from carrier_sandbox.server import make_server


def parse_epoch(value: str) -> dt.datetime:
    """An ISO 8601 moment; a naive one is taken as UTC."""
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(f"--epoch: not an ISO 8601 date-time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def stored_epoch(path: Path) -> dt.datetime:
    """The epoch kept in `path`, written with the current UTC hour on first use.

    Keeping it makes a restarted demo show the same histories as before.
    """
    if path.exists():
        return parse_epoch(path.read_text())
    epoch = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(epoch.isoformat() + "\n")
    return epoch


class Command(BaseCommand):
    help = (
        "Run the carrier sandbox: a local HTTP server that speaks the DHL, UPS, FedEx, USPS, "
        "17TRACK and AfterShip tracking formats (plus the native /sandbox/v1/track) with "
        "deterministic histories, and a control API under /_sandbox/."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--latency-ms", type=int, default=0, help="delay every carrier response by N ms"
        )
        parser.add_argument(
            "--epoch",
            default=None,
            help="ISO 8601 anchor of the histories (default: var/sandbox-epoch, created once)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["epoch"]:
            epoch = parse_epoch(options["epoch"])
        else:
            epoch = stored_epoch(Path(settings.BASE_DIR) / "var" / "sandbox-epoch")
        if options["verbosity"] >= 3:
            logging.getLogger("carrier_sandbox").setLevel(logging.DEBUG)
        push = PushTarget(
            url=settings.CARRIER_SANDBOX_PUSH_URL,
            seventeentrack_key=(settings.CARRIER_CREDENTIALS.get("17track") or {}).get(
                "api_key", ""
            ),
            aftership_secret=settings.AFTERSHIP_WEBHOOK_SECRET,
        )
        app = Sandbox(epoch=epoch, latency_ms=options["latency_ms"], push=push)
        try:
            server = make_server(options["host"], options["port"], app)
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc

        def stop(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, stop)
        self.stdout.write(
            f"Carrier sandbox listening on {server.url} "
            f"(epoch {epoch.isoformat()}, latency {options['latency_ms']} ms)"
        )
        self.stdout.flush()
        try:
            server.serve_forever(poll_interval=0.25)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            server.server_close()
            self.stdout.write("Carrier sandbox stopped.")
