"""The environment of child processes: carriers pointed at the sandbox, the site over plain HTTP.

Carrier facts (environment prefixes, credential names) come from the carrier catalogue, so a
new carrier needs nothing here.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from urllib.parse import quote

from shipments.carriers import catalogue

# Variables of the caller's environment that must not leak into processes of their own stack.
FOREIGN = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CARRIER_SANDBOX_URL",
    "CARRIER_SANDBOX_PUSH_URL",
    "DJANGO_SETTINGS_MODULE",
)

# Production settings (DEBUG off) served over plain HTTP on 127.0.0.1.
SITE_OVER_HTTP = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    "WHITENOISE_USE_FINDERS": "1",
}


def sandbox_credentials(tag: str = "sandbox") -> dict[str, str]:
    """A value for every credential of every carrier (`DHL_API_KEY` → `<tag>-dhl-api-key`):
    the sandbox accepts any non-empty credentials."""
    return {
        variable: f"{tag}-{carrier.code}-{name.replace('_', '-')}"
        for carrier in catalogue.CARRIERS
        for name, variable in carrier.credential_env.items()
    }


def carrier_env(
    sandbox_url: str, *, rate_limit: float | str, tag: str = "sandbox"
) -> dict[str, str]:
    """Every carrier through the sandbox at `sandbox_url`, with credentials and a rate limit of
    `rate_limit` requests/s each (the sandbox takes far more than the real carriers)."""
    return {
        "CARRIER_SANDBOX_URL": sandbox_url,
        **sandbox_credentials(tag),
        **{f"{c.env_prefix}_RATE_LIMIT": str(rate_limit) for c in catalogue.CARRIERS},
    }


def without_carrier_urls(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without any carrier's `<PREFIX>_API_BASE_URL`: the sandbox URL must win."""
    return {k: v for k, v in env.items() if not k.endswith("_API_BASE_URL")}


def child_env(
    *values: Mapping[str, str], base: Mapping[str, str] | None = None, drop: tuple[str, ...] = ()
) -> dict[str, str]:
    """`base` (this process's environment by default) without carrier base URLs and the `drop`
    names, then each mapping of `values` in turn (values turned into strings)."""
    env = without_carrier_urls(os.environ if base is None else base)
    for name in drop:
        env.pop(name, None)
    for mapping in values:
        env.update({str(k): str(v) for k, v in mapping.items()})
    return env


def postgres_url(
    name: str, *, user: str = "postgres", password: str = "", host: str = "127.0.0.1", port="5432"
) -> str:
    auth = quote(user or "", safe="")
    if password:
        auth += ":" + quote(password, safe="")
    return f"postgres://{auth}@{host or '127.0.0.1'}:{port or '5432'}/{name}"


def database_url(settings_dict: Mapping[str, object]) -> str:
    """The URL of a Django database (`connection.settings_dict`), for a child process."""
    name = str(settings_dict["NAME"])
    if str(settings_dict["ENGINE"]).endswith("sqlite3"):
        return f"sqlite:///{name}"
    return postgres_url(
        name,
        user=str(settings_dict.get("USER") or ""),
        password=str(settings_dict.get("PASSWORD") or ""),
        host=str(settings_dict.get("HOST") or ""),
        port=str(settings_dict.get("PORT") or ""),
    )


def shell_exports(sandbox_url: str, *, rate_limit: str, tag: str = "sandbox") -> str:
    """`export NAME=value` lines for `carrier_env`, leaving alone what the environment sets to a
    non-empty value."""
    return "\n".join(
        f"export {name}={shlex.quote(value)}"
        for name, value in carrier_env(sandbox_url, rate_limit=rate_limit, tag=tag).items()
        if not os.environ.get(name)
    )


if __name__ == "__main__":  # ./run: eval "$(python -m harness.env SANDBOX_URL RATE_LIMIT)"
    print(shell_exports(sys.argv[1], rate_limit=sys.argv[2]))
