"""Celery bootstrap: `celery -A resync_site worker` consumes both queues, `beat` the schedule."""

from __future__ import annotations

import contextlib
import logging.config
import os

from celery import Celery
from celery.signals import setup_logging
from kombu import Queue
from kombu.transport import redis as kombu_redis
from kombu.transport.virtual import Empty

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")

_channel_close = kombu_redis.Channel.close


def _close_without_pending_poll(self: kombu_redis.Channel) -> None:
    """kombu 5.7: closing a channel that waits on BRPOP first reads that reply; with the broker
    gone the read raises before the channel is marked closed, the consumer detaches the transport
    (`Connection.collect`) and closes again, and the second close dies in `restore_unacked` with
    AttributeError (`conninfo` is None): "Unrecoverable error", the worker exits. Drop the
    pending reply when it cannot be read."""
    if self._in_poll:
        with contextlib.suppress(Empty, *self.connection_errors):
            self._brpop_read()
        self._in_poll = None
    _channel_close(self)


kombu_redis.Channel.close = _close_without_pending_poll

app = Celery("resync_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Single resyncs (a person is waiting) and bulk work have their own queues; a plain worker
# consumes both because both are declared here.
app.conf.task_queues = (Queue("interactive"), Queue("bulk"))
app.autodiscover_tasks()


@setup_logging.connect
def _use_django_logging(**_: object) -> None:
    """Workers log with the same format and context ids as the web processes."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
