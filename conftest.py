"""Root test configuration: settings come from `resync_site.settings_test` (see pytest.ini)."""

pytest_plugins = [
    "shipments.tests.fixtures",
    "shipments.tests.replay",
    "shipments.tests.sandbox_fixtures",
    "shipments.tests.worker_fixtures",
    "shipments.tests.browser_fixtures",
    "notify.tests.mail_fixtures",
]
