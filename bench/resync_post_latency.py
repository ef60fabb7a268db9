"""Shopper resync under load: `POST /track/<token>/resync/` → 202, beside its ceiling, same run.

    .venv/bin/python bench/resync_post_latency.py [--seconds 15] [--workers N] [--threads N]

The endpoint is the public tracking page's resync (docs/contract.md §5), asked for JSON (`Accept:
application/json`, CSRF cookie + `X-CSRFToken` header as a script would send them): 202 with the
job. Every request names a different shipment of a store of 10,000, so every one is accepted
(none meets a cooldown): wrk's Lua script hands each thread its own share of the tokens.

Creates, migrates and seeds its own PostgreSQL database (`resync_load`, dropped at the end);
Redis database 7 holds the cooldowns, the rate-limit counters and the queued Celery messages
(no worker runs; the database is flushed at the end). The per-IP abuse limit
(`TRACK_RESYNC_RATE_PER_IP`, 30/h by default) is raised to 1000000/h for the run: all requests
come from 127.0.0.1. The ceiling is `/bench/one-row/<pk>/` (a GET of one row) on the same
gunicorn. Target: p95 <= 50 ms when not saturated (paced to half the saturated rate: a
saturated server's latency is its queue, whatever the request costs).

As in tracking_page_load.py: server CPU ms per request beside wrk's figures, then the ceiling and
the POST at the same paced rate (--paced, half the POST's saturated rate), and --py-spy DIR for a
profiled run. Prints figures; exits 1 when the target is missed (--no-fail to always exit 0).
"""

from __future__ import annotations

import argparse
import random
import secrets
import string
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _load_common as common  # noqa: E402

RATE_PER_IP = "1000000/h"


def seed(shipments: int) -> tuple[list[str], int]:
    """The demo store with `shipments` shipments: their public tokens, and one shipment's pk."""
    from shipments.demo import seed_demo
    from shipments.models import Shipment

    seed_demo(shipments=shipments)
    common.analyze()
    rows = list(Shipment.objects.filter(store__slug="demo").values_list("public_token", "pk"))
    tokens = [token for token, _ in rows]
    random.Random(7).shuffle(tokens)
    return tokens, rows[0][1]


def db_counts() -> tuple[int, int]:
    from shipments.models import ResyncJob, ResyncRequest

    return ResyncJob.objects.count(), ResyncRequest.objects.filter(accepted=True).count()


def queued_messages() -> int:
    import redis

    return int(redis.Redis.from_url(common.REDIS_DB_URL).llen("interactive"))


def parse_args() -> argparse.Namespace:
    parser = common.argument_parser(__doc__.splitlines()[0], "the POST")
    return parser.parse_args()


@dataclass
class Figures:
    """What one benchmark run measured."""

    tokens: list[str]
    pk: int
    inproc: dict[str, float]
    seconds: float = 0.0
    warm: Any = None
    ceiling: Any = None
    resync: Any = None
    queued: int = 0
    paced: list = field(default_factory=list)
    profile: str = ""
    jobs: int = 0
    accepted: int = 0
    server_errors: int = 0


def in_process_phase(args, csrf: str) -> Figures:
    """Seed; CPU per request of Django alone, in this process (each POST a fresh shipment)."""
    tokens, pk = seed(args.shipments)
    fresh = iter(tokens)  # in-process figures: each POST names a shipment of its own too
    json_post = {"HTTP_ACCEPT": "application/json", "HTTP_COOKIE": f"csrftoken={csrf}"}
    inproc = {
        "ceiling": common.wsgi_cpu_ms(lambda: common.wsgi_environ(f"/bench/one-row/{pk}/")),
        "resync": common.wsgi_cpu_ms(
            lambda: common.wsgi_environ(
                f"/track/{next(fresh)}/resync/", "POST", HTTP_X_CSRFTOKEN=csrf, **json_post
            ),
            status=202,
            number=100,
        ),
    }
    common.close_django()
    common.clear_redis_state()
    return Figures(tokens, pk, inproc)


def saturated_phase(args, server, f: Figures, wrk: dict, post: dict) -> None:
    """Warm-up (then its cooldowns forgotten), the ceiling and the POST at full load, for as
    long as the tokens last."""
    ceiling_url = f"{server.url}/bench/one-row/{f.pk}/"
    common.run_wrk("warm-up", ceiling_url, seconds=args.warmup, **wrk)
    f.warm = common.run_wrk("warm-up", server.url, seconds=args.warmup, **post, **wrk)
    common.clear_redis_state()
    # Every request must name a fresh shipment: keep the run within the tokens we have.
    budget = 0.6 * len(f.tokens) / max(f.warm.rps, 1.0)
    f.seconds = max(3.0, min(args.seconds, float(int(budget))))
    f.ceiling = common.run_wrk("ceiling: one-row view (GET)", ceiling_url, seconds=f.seconds, **wrk)
    common.clear_redis_state()
    f.resync = common.run_wrk(
        "POST /track/<token>/resync/", server.url, seconds=f.seconds, **post, **wrk
    )
    f.queued = queued_messages()


def paced_phase(args, server, f: Figures, wrk: dict, post: dict) -> None:
    """The ceiling and the POST at the same offered rate (--paced share of the POST's)."""
    if not args.paced:
        return
    rate = args.paced * f.resync.rps
    ceiling_url = f"{server.url}/bench/one-row/{f.pk}/"
    f.paced.append(
        common.run_wrk(
            f"ceiling at {rate:.0f} req/s", ceiling_url, seconds=f.seconds, rate=rate, **wrk
        )
    )
    common.clear_redis_state()  # fresh cooldowns: every shipment may resync again
    f.paced.append(
        common.run_wrk(
            f"POST at {rate:.0f} req/s", server.url, seconds=f.seconds, rate=rate, **post, **wrk
        )
    )


def profile_phase(args, server, f: Figures, wrk: dict, post: dict) -> None:
    """With --py-spy: the POST once more, profiled."""
    if not args.py_spy:
        return
    common.clear_redis_state()
    args.py_spy.mkdir(parents=True, exist_ok=True)
    with common.PySpy(server.pid, args.py_spy / "resync_post.txt") as spy:
        common.run_wrk("profiled", server.url, seconds=f.seconds, **post, **wrk)
    f.profile = spy.summary()


def load_phase(args, config, env, tmp: str, f: Figures, headers: dict[str, str]) -> None:
    """gunicorn under wrk: saturated, paced, profiled; then what reached the database."""
    paths = Path(tmp) / "paths.txt"
    paths.write_text("".join(f"/track/{token}/resync/\n" for token in f.tokens))
    log = Path(tmp) / "gunicorn.log"
    post = {"method": "POST", "expected": 202, "headers": headers, "paths_file": paths}
    with common.gunicorn_server(config, env, log).start() as server:
        wrk = {"threads": args.wrk_threads, "connections": args.connections, "server": server}
        saturated_phase(args, server, f, wrk, post)
        paced_phase(args, server, f, wrk, post)
        profile_phase(args, server, f, wrk, post)
    common.setup_django(env)
    f.jobs, f.accepted = db_counts()
    common.close_django()
    f.server_errors = log.read_text(errors="replace").count("Traceback")


def print_header(config, f: Figures) -> None:
    resync = f.resync
    print(f"Shopper resync POST latency, {config.describe()}, {common.cores()} cores, PostgreSQL")
    print(
        f"  endpoint: POST /track/<token>/resync/ (JSON), {len(f.tokens)} shipments, "
        "one per request"
    )
    print(f"  TRACK_RESYNC_RATE_PER_IP={RATE_PER_IP} (raised so the per-IP limit never answers)")
    print(f"  wrk: {resync.command}")
    print(f"  duration {f.seconds:g}s (warm-up rate {f.warm.rps:.0f}/s; tokens must not run out)")
    print(f"  queued Celery messages after the run: {f.queued} (then deleted with Redis db 7)")
    print(f"  jobs in the database: {f.jobs} (accepted audit rows {f.accepted}, warm-up included)")
    print(f"  server tracebacks logged: {f.server_errors}")
    if resync.wrapped:
        print("! the run used more requests than shipments: some met a cooldown (429)")
    print()
    common.print_results([f.ceiling, resync, *f.paced])


def print_targets(f: Figures) -> bool:
    """The figures beside the target; True when it is met and every answer was a 202."""
    resync, ceiling, inproc = f.resync, f.ceiling, f.inproc
    clean = resync.other == 0 and resync.socket_errors == 0 and resync.ok == resync.requests
    print()
    print(f"{'figure':<28} {'value':>10} {'ceiling':>10} {'ratio':>7} {'target':>10}  met?")
    print(
        f"{'resync req/s':<28} {resync.rps:10.0f} {ceiling.rps:10.0f}"
        f" {resync.rps / max(ceiling.rps, 1):7.0%} {'-':>10}"
    )
    print(
        f"{'resync p95 latency (ms)':<28} {resync.p95_ms:10.1f} {ceiling.p95_ms:10.1f}"
        f" {resync.p95_ms / max(ceiling.p95_ms, 0.001):6.1f}x {'-':>10}"
        "  (saturated: the queue's length)"
    )
    cpu_ratio = ceiling.cpu_ms / resync.cpu_ms if resync.cpu_ms else 0.0
    print(
        f"{'server CPU ms/request':<28} {resync.cpu_ms:10.2f} {ceiling.cpu_ms:10.2f}"
        f" {cpu_ratio:7.0%} {'-':>10}"
    )
    print(
        f"{'in-process CPU ms/request':<28} {inproc['resync']:10.2f} {inproc['ceiling']:10.2f}"
        f" {inproc['ceiling'] / inproc['resync']:7.0%} {'-':>10}"
        "  (Django alone: WSGI call, one thread, best of 5)"
    )
    p95_ok = False
    if f.paced:
        calm_ceiling, calm = f.paced
        p95_ok = calm.p95_ms <= 50 and calm.other == 0
        print(
            f"{'resync p95 when not saturated':<28} {calm.p95_ms:10.1f} {calm_ceiling.p95_ms:10.1f}"
            f" {calm.p95_ms / max(calm_ceiling.p95_ms, 0.001):6.1f}x {'<= 50 ms':>10}"
            f"  {common.verdict(p95_ok)}"
            f"  (both paced to {calm.rps:.0f} req/s by the same 50 clients)"
        )
    if not clean or (f.paced and f.paced[1].other):
        print("! some answers were not 202: the figures above are not valid")
    return p95_ok and clean


def main() -> int:
    args = parse_args()
    common.wrk_binary()
    config = common.ServerConfig(args.workers, args.threads, args.worker_class)
    env = common.bench_env(TRACK_RESYNC_RATE_PER_IP=RATE_PER_IP)
    csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    headers = {
        "Accept": "application/json",
        "Cookie": f"csrftoken={csrf}",
        "X-CSRFToken": csrf,
    }
    with tempfile.TemporaryDirectory(prefix="resync-load-") as tmp, common.database(env):
        common.setup_django(env)
        figures = in_process_phase(args, csrf)
        load_phase(args, config, env, tmp, figures, headers)
    print_header(config, figures)
    met = print_targets(figures)
    if figures.profile:
        print()
        print(f"py-spy profile of the POST under the same load ({args.py_spy}):")
        print(figures.profile)
    return 0 if met or args.no_fail else 1


if __name__ == "__main__":
    sys.exit(main())
