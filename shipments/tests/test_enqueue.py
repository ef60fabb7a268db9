"""Publishing tasks by name (`services.enqueue`): the messages a worker gets, and a broker that
does not answer."""

from __future__ import annotations

import uuid

import pytest
from celery import current_app
from celery.signals import before_task_publish
from kombu.exceptions import OperationalError

from shipments.redis_client import RedisUnavailable
from shipments.services import enqueue


@pytest.fixture
def published():
    seen: list[tuple[str, dict, dict]] = []

    def record(sender=None, headers=None, properties=None, routing_key=None, **kwargs):
        seen.append((sender, headers, {"routing_key": routing_key, **(properties or {})}))

    before_task_publish.connect(record, weak=False)
    yield seen
    before_task_publish.disconnect(record)


def test_a_message_is_the_one_the_task_itself_would_send(published, settings):
    missing = str(uuid.uuid4())  # a worker that picks it up finds no such job and stops
    enqueue.resync_job(missing)
    [(name, headers, properties)] = published
    assert name == "shipments.tasks.resync_job_execute"
    assert properties["routing_key"] == "interactive"
    # Results ignored and the configured time limits, as `apply_async` of the task would say:
    # without them a single resync waited twice as long behind a bulk run.
    assert headers["ignore_result"] is True
    assert list(headers["timelimit"]) == [
        settings.CELERY_TASK_TIME_LIMIT,
        settings.CELERY_TASK_SOFT_TIME_LIMIT,
    ]


def test_chunks_go_to_the_bulk_queue_with_their_attempt(published):
    enqueue.chunk(None, "dhl", [10**12], attempt=2, countdown=0.01)
    [(name, headers, properties)] = published
    assert (name, properties["routing_key"]) == ("shipments.tasks.sync_chunk", "bulk")
    assert headers["eta"] is not None


def test_a_broker_that_does_not_answer_is_redis_unavailable(monkeypatch):
    """What kombu raises after its one quick publish retry becomes `RedisUnavailable` (the
    views answer 503 + Retry-After; nothing waits on a dead broker)."""

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(current_app, "send_task", refuse)
    with pytest.raises(RedisUnavailable, match="broker unavailable"):
        enqueue.run_dispatch(1)
