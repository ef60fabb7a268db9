"""Carrier auto-detection from a tracking number's format, and well-formed demo numbers.

Formats and check digits come from the `tracking-numbers` library (built on the community
`tracking_number_data` tables); the DHL Paket 20-digit `00340434…` form it lacks is added here.
"""

from __future__ import annotations

import random
import re

from tracking_numbers import DEFINITIONS, get_tracking_number

from . import catalogue

_DHL_PAKET = re.compile(r"^00340434\d{12}$")
_CLEAN = re.compile(r"[\s-]+")


def normalize_tracking_number(value: str) -> str:
    """Upper-case, without spaces or dashes (as printed on labels)."""
    return _CLEAN.sub("", value or "").upper()


def detect_carrier(tracking_number: str) -> str | None:
    """Our carrier code for a number whose format (and check digit) one carrier owns, or None."""
    number = normalize_tracking_number(tracking_number)
    if not number:
        return None
    if _DHL_PAKET.match(number):
        return "dhl"
    found = get_tracking_number(number)
    if found is None or not found.valid:
        return None
    return catalogue.BY_NUMBER_FORMAT.get(found.courier.code)


def carrier_suggestions(tracking_number: str) -> list[str]:
    """The carriers whose number format fits, best first: those whose format and check digit
    both fit, then those whose format fits with a wrong check digit (a typo, or a format the
    carrier reuses)."""
    number = normalize_tracking_number(tracking_number)
    if not number:
        return []
    valid: list[str] = ["dhl"] if _DHL_PAKET.match(number) else []
    shaped: list[str] = []
    for definition in DEFINITIONS:
        found = definition.test(number)
        code = catalogue.BY_NUMBER_FORMAT.get(found.courier.code) if found else None
        if code:
            (valid if found.valid else shaped).append(code)
    return list(dict.fromkeys(valid + shaped))


def _with_check_digit(prefix: str, suffix: str = "") -> str:
    for digit in "0123456789":
        candidate = f"{prefix}{digit}{suffix}"
        found = get_tracking_number(candidate)
        if found is not None and found.valid:
            return candidate
    raise ValueError(f"no valid check digit for {prefix}?{suffix}")


def example_number(carrier: str, seed: int) -> str:
    """A deterministic, well-formed number of `carrier`'s own format (for demo data and tests)."""
    rng = random.Random(f"{carrier}:{seed}")  # noqa: S311 - demo data, not secrets

    def digits(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    if carrier == "ups":
        account = "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(6))
        return _with_check_digit(f"1Z{account}03{digits(7)}")
    if carrier == "fedex":
        return _with_check_digit(f"7{digits(10)}")
    if carrier == "usps":
        return _with_check_digit(f"9400{digits(15)}")
    if carrier == "dhl":
        return f"00340434{digits(12)}"
    if carrier == "17track":
        return _with_check_digit(f"LZ{digits(8)}", "CN")
    if carrier == "aftership":
        return _with_check_digit(f"RR{digits(8)}", "SG")
    return f"SBX{digits(12)}"
