from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shipments import services
from shipments.models import BULK_WINDOWS, RunState, Store, SyncRun
from shipments.redis_client import RedisUnavailable
from shipments.windows import BadWindow

_FINISHED = {RunState.COMPLETED, RunState.COMPLETED_WITH_ERRORS, RunState.FAILED}


class Command(BaseCommand):
    help = "Bulk resync of a store's shipments shipped in a window (respects the cooldown)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--store", required=True, help="store slug")
        parser.add_argument("--window", required=True, help="|".join(w.value for w in BULK_WINDOWS))
        parser.add_argument(
            "--force", action="store_true", help="ignore the cooldown (recorded in the audit)"
        )
        parser.add_argument("--no-wait", action="store_true", help="return once the run is queued")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait at most")

    def handle(self, *args: object, **options: object) -> None:
        store = Store.objects.filter(slug=options["store"]).first()
        if store is None:
            raise CommandError(f"no store with slug {options['store']!r}")
        try:
            verdict = services.store_bulk_resync(
                store=store,
                window=str(options["window"]),
                source="cli",
                force=bool(options["force"]),
            )
        except BadWindow as exc:
            raise CommandError(str(exc)) from None
        except RedisUnavailable:
            raise CommandError(
                "Redis or the task broker is unavailable; try again shortly."
            ) from None
        if not verdict.accepted:
            raise CommandError(f"{verdict.message} (or use --force)")
        run = verdict.run
        self.stdout.write(
            f"run {run.pk} queued: {run.total} shipments ({run.get_window_display()})"
        )
        if options["no_wait"]:
            return
        self._follow(run.pk, float(options["timeout"]))

    def _follow(self, run_id: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        interactive = self.stdout.isatty()
        last = None
        while True:
            run = SyncRun.objects.get(pk=run_id)
            line = self._progress_line(run)
            if line != last:
                self.stdout.write(
                    ("\r" if interactive else "") + line, ending="" if interactive else "\n"
                )
                self.stdout.flush()
                last = line
            if run.state in _FINISHED:
                if interactive:
                    self.stdout.write("")
                self.stdout.write(f"run {run.pk} {run.get_state_display().lower()}")
                if run.state != RunState.COMPLETED:
                    raise SystemExit(1)
                return
            if time.monotonic() > deadline:
                raise CommandError(f"run {run.pk} still {run.state} after {timeout:.0f}s")
            time.sleep(0.5)

    @staticmethod
    def _progress_line(run: SyncRun) -> str:
        width = 30
        filled = width if not run.total else int(width * run.done / run.total)
        bar = "#" * filled + "-" * (width - filled)
        return (
            f"[{bar}] {run.done}/{run.total} {run.percent:3d}%  changed {run.changed}  "
            f"unchanged {run.unchanged}  failed {run.failed}  ({run.state})"
        )
