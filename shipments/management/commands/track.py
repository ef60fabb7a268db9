from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shipments.carriers import registry
from shipments.carriers.base import CarrierError, Throttled, TrackingResult
from shipments.carriers.numbers import normalize_tracking_number
from shipments.carriers.registry import UnknownCarrier, get_adapter


def result_payload(result: TrackingResult) -> dict[str, Any]:
    """The JSON of the `track` command (docs/contract.md §5), events newest first."""
    eta = result.estimated_delivery
    return {
        "carrier": result.carrier,
        "tracking_number": result.tracking_number,
        "status": str(result.status),
        "sub_status": result.sub_status,
        "estimated_delivery": eta.isoformat() if eta else None,
        "events": [
            {
                "occurred_at": event.occurred_at.isoformat(),
                "status": str(event.status),
                "description": event.description,
                "location": event.location,
            }
            for event in sorted(result.events, key=lambda e: e.occurred_at, reverse=True)
        ],
    }


class Command(BaseCommand):
    help = "Ask a carrier right now what it knows about a tracking number."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("carrier", help="|".join(registry.codes()))
        parser.add_argument("tracking_number")
        parser.add_argument("--json", action="store_true", help="print the normalised JSON")

    def handle(self, *args: object, **options: Any) -> None:
        carrier = str(options["carrier"]).lower()
        number = normalize_tracking_number(options["tracking_number"])
        try:
            adapter = get_adapter(carrier)
        except UnknownCarrier:
            raise CommandError(
                f"unknown carrier {carrier!r}: use one of {', '.join(registry.codes())}"
            ) from None
        if not number:
            raise CommandError("empty tracking number")
        outcome = self._track(adapter, number)
        result = outcome.results.get(number)
        if result is None:
            error = outcome.errors.get(number) or CarrierError(f"{carrier}: no answer for {number}")
            raise CommandError(self._describe(error))
        if options["json"]:
            self.stdout.write(json.dumps(result_payload(result), ensure_ascii=False))
            return
        self._print(result)

    def _track(self, adapter: Any, number: str) -> Any:
        """Track now; waiting for a slot of our own shared rate limit is fine in a shell."""
        deadline = time.monotonic() + 15
        while True:
            try:
                outcome = adapter.track([number])
            except Throttled as exc:
                error: CarrierError | None = exc
            except CarrierError as exc:
                raise CommandError(self._describe(exc)) from None
            else:
                error = outcome.errors.get(number)
                if not isinstance(error, Throttled):
                    return outcome
            if time.monotonic() > deadline:
                raise CommandError(self._describe(error))
            time.sleep(min(max(error.retry_after or 0.1, 0.05), 2.0))

    @staticmethod
    def _describe(error: CarrierError) -> str:
        text = f"{error.code}: {error.message}"
        if error.retry_after is not None:
            text += f" (retry after {error.retry_after:.0f}s)"
        return text.replace("\n", " ")

    def _print(self, result: TrackingResult) -> None:
        eta = result.estimated_delivery.isoformat() if result.estimated_delivery else "-"
        self.stdout.write(
            f"{result.carrier} {result.tracking_number}: {result.status}"
            + (f" ({result.sub_status})" if result.sub_status else "")
        )
        self.stdout.write(f"  carrier says: {result.raw_status_code} {result.raw_status_text}")
        self.stdout.write(f"  estimated delivery: {eta}")
        for event in sorted(result.events, key=lambda e: e.occurred_at, reverse=True):
            self.stdout.write(
                f"  {event.occurred_at.isoformat()}  {event.status:<20} "
                f"{event.description}  [{event.location}]"
            )
