"""Carrier text at the adapter boundary (SPEC §10): stored as the carrier sent it, less NUL bytes
and other control characters, for every adapter; bidi controls are kept (the pages isolate them).

Each case takes a canned payload in the carrier's documented shape, injects control characters
into the strings that become event descriptions and places, and expects exactly the result of
the untouched payload.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from shipments.carriers import aftership, dhl, fedex, seventeentrack, ups, usps
from shipments.carriers.base import CarrierUnavailable, TrackingEventData, TrackingResult
from shipments.carriers.statuses import Status

from . import support

Parse = Callable[[Any], TrackingResult]


def _batch(module: Any, number: str) -> Parse:
    def parse(payload: Any) -> TrackingResult:
        return module.parse_track_response(payload, requested=[number]).results[number]

    return parse


CASES: dict[str, tuple[str, Parse]] = {
    "dhl": ("parcel_out_for_delivery.json", _batch(dhl, "00340434161094042557")),
    "ups": ("out_for_delivery.json", _batch(ups, "1Z4E12340312345675")),
    "fedex": ("out_for_delivery.json", _batch(fedex, "794612345672")),
    "usps": (
        "out_for_delivery.json",
        lambda p: usps.parse_tracking(p, tracking_number="9400136105541234567890"),
    ),
    "17track": ("gettrackinfo_documented.json", _batch(seventeentrack, "LX123456789CN")),
    "aftership": (
        "tracking_documented_2025-01.json",
        lambda p: aftership.parse_response(p, tracking_number="794612345672"),
    ),
}

CONTROLS = "\x00\x01\x07\x08\x0b\x0c\x1b\x1f\x7f\x80\x85\x9f"


def _replace_strings(node: Any, change: Callable[[str], str | None]) -> Any:
    """A copy of a JSON value where each string `change` answers for is replaced."""
    if isinstance(node, dict):
        return {key: _replace_strings(value, change) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace_strings(value, change) for value in node]
    if isinstance(node, str):
        replaced = change(node)
        return node if replaced is None else replaced
    return node


def _carrier_words(result: TrackingResult) -> set[str]:
    """Strings of the result that come from the carrier as they are: descriptions and the
    first part of each place (the city)."""
    words = {e.description for e in result.events}
    words |= {e.location.split(",")[0] for e in result.events}
    return {w for w in words if len(w) >= 3}


def _poisoned(word: str) -> str:
    middle = len(word) // 2
    return f"\x00{word[:middle]}{CONTROLS}{word[middle:]}\x00"


@pytest.mark.parametrize("carrier", sorted(CASES))
def test_control_characters_are_removed_from_every_carrier_text(carrier):
    name, parse = CASES[carrier]
    clean = parse(support.load_payload(carrier, name))
    words = _carrier_words(clean)
    assert words, "the payload has carrier text to poison"

    poisoned = _replace_strings(
        support.load_payload(carrier, name), lambda s: _poisoned(s) if s in words else None
    )
    result = parse(poisoned)

    assert result == clean
    assert [e.fingerprint for e in result.events] == [e.fingerprint for e in clean.events]


@pytest.mark.parametrize("carrier", sorted(CASES))
def test_bidi_controls_are_kept_as_sent(carrier):
    name, parse = CASES[carrier]
    clean = parse(support.load_payload(carrier, name))
    description = clean.events[0].description
    assert description

    sent = f"\u202e{description}\u202c \u2066x\u2069"
    payload = _replace_strings(
        support.load_payload(carrier, name), lambda s: sent if s == description else None
    )
    result = parse(payload)

    assert result.events[0].description == sent


def test_every_string_of_a_result_is_cleaned_whoever_builds_it():
    """The dataclasses clean themselves: a new adapter cannot forget it."""
    when = dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)
    event = TrackingEventData(
        occurred_at=when,
        status=Status.IN_TRANSIT,
        description="Sorted\x00 in\r\n\tthe hub\u202e",
        location="Leip\x1bzig\x85, DE",
        raw_code="T\x00R",
    )
    assert (event.description, event.location, event.raw_code) == (
        "Sorted in\r\n\tthe hub\u202e",  # tab and line breaks are white space, not dropped
        "Leipzig, DE",
        "TR",
    )
    twin = TrackingEventData(
        occurred_at=when,
        status=Status.IN_TRANSIT,
        description="Sorted in\r\n\tthe hub\u202e",
        location="Leipzig, DE",
        raw_code="TR",
    )
    assert event.fingerprint == twin.fingerprint
    result = TrackingResult(
        carrier="dhl",
        tracking_number="JV\x00GL1",
        status=Status.IN_TRANSIT,
        sub_status="a\x01",
        raw_status_code="b\x02",
        raw_status_text="Out\x00 for delivery",
        origin="Bonn\x7f, DE",
        destination="Berlin\x9f, DE",
        events=(event,),
        actual_carrier_code="royal\x00-mail",
        actual_carrier_name="Royal\x00 Mail\ud800",
        actual_carrier_url="https://example.com/\x00x",
    )
    strings = [getattr(result, n) for n in TrackingResult.__dataclass_fields__]
    assert not [s for s in strings if isinstance(s, str) and any(c in s for c in CONTROLS)]
    assert result.raw_status_text == "Out for delivery"
    assert result.actual_carrier_name == "Royal Mail"  # a lone surrogate cannot be stored either
    assert CarrierUnavailable("bad\x00 body\x1b").message == "bad body"
