"""The answer to a resync request, and the audit row every request leaves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..messages import RESYNC_STARTED, refusal_message
from ..models import ResyncJob, ResyncRequest, SyncRun


@dataclass(frozen=True)
class ResyncVerdict:
    """The answer to one resync request."""

    accepted: bool
    retry_after: int
    reason: str = ""
    job: ResyncJob | None = None
    run: SyncRun | None = None

    @property
    def message(self) -> str:
        if self.accepted:
            return str(RESYNC_STARTED)
        return refusal_message(self.reason, self.retry_after)


def audit_request(**fields: Any) -> ResyncRequest:
    """Record one resync request (accepted or refused) in the audit."""
    return ResyncRequest.objects.create(**fields)
