"""Root test configuration: settings come from `resync_site.settings_test` (see pytest.ini)."""

pytest_plugins = [
    "shipments.tests.fixtures",
    "shipments.tests.replay",
    "shipments.tests.sandbox_fixtures",
    "shipments.tests.worker_fixtures",
    "shipments.tests.browser_fixtures",
    "notify.tests.mail_fixtures",
]


def pytest_configure(config) -> None:
    """On PostgreSQL a transactional test's flush (TRUNCATE) can meet the session's Celery worker
    still applying a task the test published, and lose a deadlock to it: try the flush again
    once the worker's transaction is over, instead of failing the test at teardown."""
    import time

    from django.core.management.base import CommandError
    from django.test import testcases

    flush = testcases.TransactionTestCase._fixture_teardown

    def flush_with_retry(self) -> None:
        for attempt in range(5):
            try:
                flush(self)
            except CommandError:
                if attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))
            else:
                return

    testcases.TransactionTestCase._fixture_teardown = flush_with_retry
