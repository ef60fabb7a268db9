"""Sign-in brute force: what 40 wrong passwords for one user cost, checked vs refused.

    DEBUG=1 DATABASE_URL=postgres://… REDIS_URL=redis://127.0.0.1:6379/N \\
        .venv/bin/python bench/sign_in_bruteforce.py [--attempts 40]

In process (Django's test client, the real password hasher): migrates the given database, makes
one user, then posts `--attempts` wrong passwords for it from one address to /accounts/login/.
Prints the answers (how many 200s before the first 429), and the median time of an attempt whose
password was checked beside one refused by the throttle (resync_site/throttle.py) — the ceiling is
the checked attempt: a refused one must cost a small fraction of it. Removes its user and its
Redis keys at the end; use a database and a Redis database of your own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _in_process import django_ready  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=40)
    args = parser.parse_args()

    wipe_redis = django_ready()
    from django.contrib.auth import get_user_model
    from django.test import Client

    username = f"bench-brute-{os.getpid()}"
    user = get_user_model().objects.create_user(username, password="the-right-password-123")
    try:
        client = Client(REMOTE_ADDR="203.0.113.50")
        answers: list[tuple[int, float]] = []
        for _ in range(args.attempts):
            started = time.perf_counter()
            response = client.post(
                "/accounts/login/", {"username": username, "password": "wrong-password"}
            )
            answers.append((response.status_code, (time.perf_counter() - started) * 1000))
    finally:
        user.delete()
        wipe_redis()
    checked = [ms for status, ms in answers if status == 200]
    refused = [ms for status, ms in answers if status == 429]
    first_refusal = next((i + 1 for i, (status, _) in enumerate(answers) if status == 429), None)
    print(f"attempts: {len(answers)}; answered 200: {len(checked)}; answered 429: {len(refused)}")
    print(f"first 429 at attempt {first_refusal}")
    if checked:
        print(f"checked attempt (ceiling): median {statistics.median(checked):.1f} ms")
    if refused:
        print(f"refused attempt (ours):    median {statistics.median(refused):.1f} ms")
    print(
        f"command: DEBUG=1 .venv/bin/python bench/sign_in_bruteforce.py --attempts {args.attempts}"
    )
    return (
        0
        if refused and (not checked or statistics.median(refused) < statistics.median(checked) / 5)
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
