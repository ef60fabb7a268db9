"""Celery bootstrap: `celery -A resync_site worker` consumes both queues, `beat` the schedule."""

from __future__ import annotations

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")

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
