"""The database settings from `DATABASE_URL` (read by the settings; no Django setup needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ

# https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-notes
SQLITE_OPTIONS = {
    # Web and workers write at once: WAL lets readers go on while one writer writes, IMMEDIATE
    # takes the write lock at BEGIN (no deadlock-prone lock upgrades), the timeout waits for it.
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def database_from_url(url: str, *, conn_max_age: int = 60) -> dict[str, Any]:
    """One database config from a URL; every SQLite database gets the same concurrency options."""
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config.setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
        # Tests run a real Celery worker in another process: the test database must be a file.
        name = str(config["NAME"])
        if name and name != ":memory:":
            config["TEST"] = {"NAME": str(Path(name).with_name("test_" + Path(name).name))}
    else:
        config.setdefault("CONN_MAX_AGE", conn_max_age)
        config.setdefault("CONN_HEALTH_CHECKS", True)
    return config
