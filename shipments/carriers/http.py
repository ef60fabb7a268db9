"""Network half of the adapters: one `requests.Session` per process, timeouts, error classes,
and what turns per-number (or per-batch) answers into one `BatchOutcome`."""

from __future__ import annotations

import email.utils
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from . import ratelimit
from .base import (
    BatchOutcome,
    CarrierError,
    CarrierUnavailable,
    InvalidCredentials,
    RateLimited,
    TrackingResult,
)

T = TypeVar("T")
R = TypeVar("R")

_sessions: dict[int, requests.Session] = {}


def get_session() -> requests.Session:
    """The process's session (connection pooling); a forked worker builds its own."""
    pid = os.getpid()
    session = _sessions.get(pid)
    if session is None:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=16, pool_maxsize=32, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = "Resync/1.0 (+tracking resync)"
        _sessions.clear()
        _sessions[pid] = session
    return session


def base_url(carrier: str, real: str) -> str:
    """`<CARRIER>_API_BASE_URL`, else the sandbox (`CARRIER_SANDBOX_URL`), else the real API."""
    override = settings.CARRIER_API_BASE_URLS.get(carrier) or settings.CARRIER_SANDBOX_URL
    return (override or real).rstrip("/")


def timeouts() -> tuple[float, float]:
    return (settings.CARRIER_CONNECT_TIMEOUT, settings.CARRIER_READ_TIMEOUT)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """`Retry-After` as seconds to wait: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def send(
    carrier: str, method: str, url: str, *, limited: bool = True, **kwargs: Any
) -> requests.Response:
    """One HTTP call with timeouts; transport failures, 401/403, 429 and 5xx become carrier errors.

    With `limited`, the call first takes a slot of the carrier's shared rate limit (raising
    `RateLimited` if none is free) and a 429 pauses the carrier for every process. Other
    statuses (2xx, 4xx) are returned for the adapter to read: their meaning differs per carrier
    (UPS answers 200 for an unknown number, DHL 404, ...).
    """
    if limited:
        ratelimit.acquire(carrier)
    kwargs.setdefault("timeout", timeouts())
    try:
        response = get_session().request(method, url, **kwargs)
    except requests.Timeout as exc:
        raise CarrierUnavailable(f"{carrier}: timed out", carrier=carrier) from exc
    except requests.RequestException as exc:
        raise CarrierUnavailable(
            f"{carrier}: unreachable ({exc.__class__.__name__})", carrier=carrier
        ) from exc
    if response.status_code == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        ratelimit.pause(carrier, retry_after)
        raise RateLimited(
            f"{carrier}: rate limited by the carrier",
            carrier=carrier,
            retry_after=retry_after,
        )
    if response.status_code >= 500:
        raise CarrierUnavailable(
            f"{carrier}: server error {response.status_code}",
            carrier=carrier,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if response.status_code in (401, 403):
        raise InvalidCredentials(
            f"{carrier}: credentials refused ({response.status_code})", carrier=carrier
        )
    return response


def json_body(carrier: str, response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise CarrierUnavailable(f"{carrier}: unreadable response body", carrier=carrier) from exc


def fan_out(
    func: Callable[[T], R], items: Iterable[T], *, max_workers: int | None = None
) -> list[tuple[T, R | CarrierError]]:
    """Call `func` on each item with up to `max_workers` in flight; carrier errors are returned.

    `max_workers` defaults to `settings.CARRIER_MAX_CONCURRENCY`, read at each call. For
    carriers whose API takes one number per request (DHL, UPS, USPS, AfterShip) and FedEx's
    batches of 30.
    """
    items = list(items)
    if max_workers is None:
        max_workers = settings.CARRIER_MAX_CONCURRENCY

    def _one(item: T) -> tuple[T, R | CarrierError]:
        try:
            return item, func(item)
        except CarrierError as exc:
            return item, exc

    if len(items) <= 1 or max_workers <= 1:
        return [_one(item) for item in items]
    return list(_pool(max_workers).map(_one, items))


_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(max_workers: int) -> ThreadPoolExecutor:
    """A thread pool per process and size, kept for the process's life: starting threads for
    every call cost about a tenth of a worker's CPU. Never nested: the functions `fan_out`
    runs make plain HTTP calls, so a full pool only queues, it cannot deadlock."""
    key = (os.getpid(), max_workers)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="carrier")
            _pools[key] = pool
        return pool


def unique_numbers(numbers: Iterable[str]) -> list[str]:
    """The numbers in their order, without repeats and empty ones."""
    return list(dict.fromkeys(n for n in numbers if n))


def collect_outcomes(pairs: Iterable[tuple[str, TrackingResult | CarrierError]]) -> BatchOutcome:
    """Per-number outcomes → `BatchOutcome`, or one error raised for the whole call.

    When every number failed with the same kind of transient or credentials error, that error
    concerns the carrier rather than the numbers (`CarrierAdapter.track`): it is raised, the one
    with the longest `retry_after` when they differ (the first of those that tie).
    """
    results: dict[str, TrackingResult] = {}
    errors: dict[str, CarrierError] = {}
    for number, outcome in pairs:
        if isinstance(outcome, CarrierError):
            errors[number] = outcome
        else:
            results[number] = outcome
    if errors and not results:
        kinds = {type(error) for error in errors.values()}
        first = next(iter(errors.values()))
        if len(kinds) == 1 and (first.transient or isinstance(first, InvalidCredentials)):
            raise max(errors.values(), key=lambda error: error.retry_after or 0.0)
    return BatchOutcome(results=results, errors=errors)


def result_for(number: str, outcome: BatchOutcome) -> TrackingResult:
    """The result for `number` from a one-number outcome; its error is raised instead."""
    if number in outcome.errors:
        raise outcome.errors[number]
    return outcome.results[number]


def track_in_batches(
    track_batch: Callable[[list[str]], BatchOutcome], numbers: list[str], *, size: int
) -> BatchOutcome:
    """`track_batch` on consecutive batches of at most `size` numbers, one after the other.

    A batch that fails as a whole gives its error to each of its numbers. After a rate limit or
    refused credentials the later batches are not sent (they would fail alike) and get the same
    error. The outcomes are collected by `collect_outcomes`.
    """
    pairs: list[tuple[str, TrackingResult | CarrierError]] = []
    stop: CarrierError | None = None
    for start in range(0, len(numbers), size):
        batch = numbers[start : start + size]
        if stop is not None:
            pairs.extend((number, stop) for number in batch)
            continue
        try:
            outcome = track_batch(batch)
        except (RateLimited, InvalidCredentials) as exc:
            stop = exc
            pairs.extend((number, exc) for number in batch)
            continue
        except CarrierError as exc:
            pairs.extend((number, exc) for number in batch)
            continue
        pairs.extend(outcome.results.items())
        pairs.extend(outcome.errors.items())
    return collect_outcomes(pairs)
