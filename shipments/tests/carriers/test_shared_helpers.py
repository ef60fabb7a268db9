"""The helpers every adapter shares: outcome collection, fan-out, batches, parsing, tokens."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pytest

from shipments.carriers import http, oauth, parsing
from shipments.carriers.base import (
    BatchOutcome,
    CarrierRejected,
    CarrierUnavailable,
    InvalidCredentials,
    RateLimited,
    TrackingEventData,
    TrackingNumberNotFound,
    TrackingResult,
)
from shipments.carriers.statuses import Status as S

UTC = dt.UTC
log = logging.getLogger("shipments.tests.carriers.shared")


def result(number: str) -> TrackingResult:
    return TrackingResult(carrier="x", tracking_number=number, status=S.IN_TRANSIT)


# --- collect_outcomes -----------------------------------------------------------------------------


def test_collect_outcomes_splits_results_and_errors() -> None:
    missing = TrackingNumberNotFound("x: unknown", carrier="x")
    down = CarrierUnavailable("x: down", carrier="x")

    outcome = http.collect_outcomes([("A", result("A")), ("B", missing), ("C", down)])

    assert outcome == BatchOutcome(results={"A": result("A")}, errors={"B": missing, "C": down})
    assert http.collect_outcomes([]) == BatchOutcome()


def test_collect_outcomes_raises_the_longest_wait_when_all_are_rate_limited_alike() -> None:
    short = RateLimited("x: slow", carrier="x", retry_after=2)
    long = RateLimited("x: slower", carrier="x", retry_after=9)
    unknown = RateLimited("x: no hint", carrier="x")

    with pytest.raises(RateLimited) as caught:
        http.collect_outcomes([("A", short), ("B", unknown), ("C", long)])
    assert caught.value is long

    first = CarrierUnavailable("x: down", carrier="x")
    with pytest.raises(CarrierUnavailable) as caught:
        http.collect_outcomes([("A", first), ("B", CarrierUnavailable("x: down", carrier="x"))])
    assert caught.value is first  # no hint at all: the first one


@pytest.mark.parametrize(
    "errors",
    [
        [InvalidCredentials("x: refused", carrier="x")] * 2,
        [CarrierUnavailable("x: down", carrier="x")],
    ],
)
def test_collect_outcomes_raises_a_shared_credentials_or_transient_failure(errors) -> None:
    with pytest.raises(type(errors[0])):
        http.collect_outcomes([(str(n), error) for n, error in enumerate(errors)])


@pytest.mark.parametrize(
    "pairs",
    [
        # Permanent, per-number errors are answers.
        [("A", TrackingNumberNotFound("x", carrier="x")), ("B", CarrierRejected("x", carrier="x"))],
        [("A", TrackingNumberNotFound("x", carrier="x"))] * 2,
        # Different kinds of failure say nothing about the carrier as a whole.
        [("A", CarrierUnavailable("x", carrier="x")), ("B", RateLimited("x", carrier="x"))],
        # One number answered: nothing concerns the whole call.
        [("A", result("A")), ("B", CarrierUnavailable("x", carrier="x"))],
    ],
)
def test_collect_outcomes_keeps_per_number_failures(pairs) -> None:
    outcome = http.collect_outcomes(pairs)
    assert set(outcome.results) | set(outcome.errors) == {number for number, _ in pairs}


# --- fan_out, track_in_batches --------------------------------------------------------------------


def _most_in_flight(items: int) -> int:
    lock = threading.Lock()
    in_flight = most = 0

    def work(item: int) -> int:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.05)
        with lock:
            in_flight -= 1
        return item

    assert http.fan_out(work, range(items)) == [(i, i) for i in range(items)]
    return most


def test_fan_out_reads_the_concurrency_setting_at_each_call(settings) -> None:
    settings.CARRIER_MAX_CONCURRENCY = 1
    assert _most_in_flight(6) == 1
    settings.CARRIER_MAX_CONCURRENCY = 3
    assert 1 < _most_in_flight(6) <= 3


def test_fan_out_returns_carrier_errors_in_order() -> None:
    down = CarrierUnavailable("x: down", carrier="x")

    def work(item: str) -> str:
        if item == "B":
            raise down
        return item.lower()

    assert http.fan_out(work, ["A", "B", "C"], max_workers=2) == [
        ("A", "a"),
        ("B", down),
        ("C", "c"),
    ]


def test_track_in_batches_stops_sending_after_a_rate_limit() -> None:
    limited = RateLimited("x: slow", carrier="x", retry_after=3)
    down = CarrierUnavailable("x: down", carrier="x")
    sent: list[list[str]] = []

    def track_batch(batch: list[str]) -> BatchOutcome:
        sent.append(batch)
        if len(sent) == 2:
            raise down
        if len(sent) == 3:
            raise limited
        return BatchOutcome(results={n: result(n) for n in batch})

    numbers = [f"N{i}" for i in range(9)]
    outcome = http.track_in_batches(track_batch, numbers, size=2)

    assert sent == [["N0", "N1"], ["N2", "N3"], ["N4", "N5"]]
    assert set(outcome.results) == {"N0", "N1"}
    assert outcome.errors == {
        "N2": down,
        "N3": down,
        **dict.fromkeys(["N4", "N5", "N6", "N7", "N8"], limited),
    }


def test_unique_numbers_and_result_for() -> None:
    assert http.unique_numbers(["B", "", "A", "B"]) == ["B", "A"]
    missing = TrackingNumberNotFound("x: unknown", carrier="x")
    assert http.result_for("A", BatchOutcome(results={"A": result("A")})) == result("A")
    with pytest.raises(TrackingNumberNotFound):
        http.result_for("A", BatchOutcome(errors={"A": missing}))


# --- parsing --------------------------------------------------------------------------------------


def test_text_helpers() -> None:
    assert parsing.text("  a ") == "a"
    assert parsing.text(None) == ""
    assert parsing.text(7) == "7"
    assert parsing.text({"a": 1}) == "{'a': 1}"
    assert parsing.scalar_text({"a": 1}) == ""
    assert parsing.scalar_text([1]) == ""
    assert parsing.scalar_text(" 7 ") == "7"
    assert parsing.number_key(" rb 701 sg") == "RB701SG"


def test_parse_iso_datetime(caplog: pytest.LogCaptureFixture) -> None:
    read = {"what": "time", "carrier": "x", "log": log}
    with caplog.at_level(logging.WARNING, logger=log.name):
        assert parsing.parse_iso_datetime("2025-03-01T10:00:00", **read) == dt.datetime(
            2025, 3, 1, 10, tzinfo=UTC
        )
        naive = parsing.parse_iso_datetime("2025-03-01T10:00:00", naive_as_utc=False, **read)
        assert naive is not None
        assert naive.tzinfo is None
        aware = parsing.parse_iso_datetime("2025-03-01T10:00:00-05:00", **read)
        assert aware is not None
        assert aware.utcoffset() == dt.timedelta(hours=-5)
        assert parsing.parse_iso_datetime("2025-03-01", **read) == dt.datetime(
            2025, 3, 1, tzinfo=UTC
        )
        assert parsing.parse_iso_datetime(None, **read) is None
        assert parsing.parse_iso_datetime("  ", **read) is None
        assert caplog.records == []
        assert (
            parsing.parse_iso_datetime("03/01/2025", what="scan date", carrier="x", log=log) is None
        )
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        (log.name, "x: unreadable scan date '03/01/2025'")
    ]


@pytest.mark.parametrize(
    ("value", "sign_required", "expected"),
    [
        ("-05:00", False, dt.timedelta(hours=-5)),
        ("-7:00", True, dt.timedelta(hours=-7)),
        ("+0530", True, dt.timedelta(hours=5, minutes=30)),
        ("9", False, dt.timedelta(hours=9)),
        ("9", True, None),
        ("+24:00", False, None),
        ("GMT", False, None),
        (None, False, None),
    ],
)
def test_parse_utc_offset(value, sign_required: bool, expected) -> None:
    zone = parsing.parse_utc_offset(value, sign_required=sign_required)
    assert (zone.utcoffset(None) if zone else None) == expected


def test_place() -> None:
    assert parsing.place("Bonn", country="DE") == "Bonn, DE"
    assert parsing.place("Denver", "CO", "80202", "US") == "Denver, CO 80202, US"
    assert parsing.place("", "", "04109", "DE") == "04109, DE"
    assert parsing.place("") == ""


def test_newest_first() -> None:
    def event(hour: int, description: str) -> TrackingEventData:
        return TrackingEventData(
            occurred_at=dt.datetime(2025, 3, 1, hour, tzinfo=UTC),
            status=S.IN_TRANSIT,
            description=description,
        )

    early, tie_a, tie_b = event(8, "early"), event(10, "a"), event(10, "b")
    listed = [early, tie_a, tie_b, event(8, "early")]  # the repeat is dropped

    assert parsing.newest_first(listed) == (tie_a, tie_b, early)
    assert parsing.newest_first(listed, listed_oldest_first=True) == (tie_b, tie_a, early)


# --- OAuth tokens ---------------------------------------------------------------------------------


class Issuer:
    """A token endpoint that hands out numbered tokens (or always the same one)."""

    def __init__(self, *, same: bool = False) -> None:
        self.issued = 0
        self.same = same

    def __call__(self) -> tuple[str, float]:
        self.issued += 1
        return ("token" if self.same else f"token-{self.issued}"), 3600.0


def holder(issuer: Issuer) -> oauth.TokenHolder:
    return oauth.TokenHolder("x", base_url="http://x", client_id="id", fetch=issuer)


@pytest.mark.parametrize("same", [False, True])
def test_token_holder_refreshes_once_per_refused_generation(same: bool) -> None:
    issuer = Issuer(same=same)
    tokens = holder(issuer)
    token, generation = tokens.current()
    assert (issuer.issued, generation) == (1, 0)

    fresh = tokens.refresh(generation)
    assert tokens.refresh(generation) == fresh  # a second thread that saw the same refusal
    assert tokens.current() == (fresh, 1)
    assert issuer.issued == 2
    assert holder(issuer).current() == (fresh, 0)  # the fresh token is the cached one


def test_token_holder_call_retries_once_with_a_fresh_token() -> None:
    tokens = holder(Issuer())
    seen: list[str] = []

    def request(token: str) -> str:
        seen.append(token)
        if token == "token-1":
            raise InvalidCredentials("x: refused", carrier="x")
        return f"answered with {token}"

    assert tokens.call(request) == "answered with token-2"
    assert seen == ["token-1", "token-2"]

    def refused(token: str) -> str:
        raise InvalidCredentials("x: refused", carrier="x")

    with pytest.raises(InvalidCredentials):
        tokens.call(refused)


def test_token_holder_fan_out_retries_the_refused_items_with_one_fresh_token() -> None:
    issuer = Issuer()
    tokens = holder(issuer)
    calls: list[tuple[str, str]] = []

    def request(token: str, item: str) -> str:
        calls.append((token, item))
        if token == "token-1" and item != "A":
            raise InvalidCredentials("x: refused", carrier="x")
        return f"{item} with {token}"

    outcomes = tokens.fan_out(request, ["A", "B", "C"])

    assert outcomes == {"A": "A with token-1", "B": "B with token-2", "C": "C with token-2"}
    assert issuer.issued == 2
    assert sorted(calls) == [
        ("token-1", "A"),
        ("token-1", "B"),
        ("token-1", "C"),
        ("token-2", "B"),
        ("token-2", "C"),
    ]
