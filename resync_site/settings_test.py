"""Settings for the test suite: the real settings with test defaults filled into the environment.

Anything already in the environment wins (CI sets DATABASE_URL for PostgreSQL, helpers may set
REDIS_URL to a database of their own). Redis defaults to database 15 so tests never touch the
data of a running demo.
"""

import os

for _name, _value in {
    "DEBUG": "0",
    "SECRET_KEY": "test-secret-key-not-for-production-0123456789abcdef",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    "WHITENOISE_USE_FINDERS": "1",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "LOG_LEVEL": "WARNING",
    # Links in e-mails; mail itself goes to pytest-django's memory, or to the test SMTP server
    # (notify/tests/mail_fixtures.py) in tests and workers that ask for it.
    "SITE_URL": "http://resync.test",
    "EMAIL_URL": "dummymail://",
    "NOTIFY_RETRY_BASE_SECONDS": "0.5",
}.items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("CELERY_BROKER_URL", os.environ["REDIS_URL"])

from .settings import *  # noqa: E402, F403
