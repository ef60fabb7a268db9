from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from resync_site.rates import parse_rate

ROOT = Path(__file__).resolve().parents[2]


def _clean_env() -> dict[str, str]:
    """The environment without test-run settings (browser tests allow async-unsafe calls)."""
    skip = {"SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {
        k: v
        for k, v in os.environ.items()
        if k not in skip and not k.startswith(("SECURE_", "SESSION_", "CSRF_"))
    }


def _django_setup(**env_overrides: str) -> subprocess.CompletedProcess[str]:
    env = _clean_env()
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "resync_site.settings"},  # not the test defaults
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = _django_setup(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_starts_with_a_secret_key_or_in_debug():
    assert _django_setup(DEBUG="0", SECRET_KEY="x" * 50).stdout.strip() == "started"
    assert _django_setup(DEBUG="1").stdout.strip() == "started"


def test_every_sqlite_database_gets_the_concurrency_options():
    from resync_site.databases import database_from_url

    for url in ("sqlite:////tmp/a.sqlite3", "sqlite:////tmp/other/b.db"):
        config = database_from_url(url)
        assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
        assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
        assert config["OPTIONS"]["timeout"] >= 5
        assert config["TEST"]["NAME"].endswith("test_" + Path(url[9:]).name)


def test_deploy_check_is_clean_with_debug_off():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **_clean_env(),
            "DJANGO_SETTINGS_MODULE": "resync_site.settings",
            "DEBUG": "0",
            "SECRET_KEY": "a-long-random-production-secret-" + "k" * 40,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("30/h", (30, 3600)), ("100/d", (100, 86400)), ("5/10m", (5, 600)), (" 1 / s ", (1, 1))],
)
def test_a_rate_reads_as_django_ratelimit_writes_it(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["30", "30/x", "/h", "30/0m", "thirty/h", ""])
def test_a_rate_that_is_not_one_is_refused(rate):
    with pytest.raises(ValueError, match="not a rate"):
        parse_rate(rate)


def test_a_mistyped_abuse_limit_stops_the_start_not_the_first_request():
    result = _django_setup(DEBUG="1", TRACK_RESYNC_RATE_PER_IP="30 per hour")
    assert result.returncode != 0
    assert "TRACK_RESYNC_RATE_PER_IP: not a rate: '30 per hour'" in result.stderr
