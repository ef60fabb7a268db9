from __future__ import annotations

import pytest

from shipments.carriers.numbers import detect_carrier, example_number, normalize_tracking_number


@pytest.mark.parametrize(
    ("number", "carrier"),
    [
        ("1Z999AA10123456784", "ups"),
        ("1z999aa1 0123 456784", "ups"),  # as typed from a label
        ("123456789012", "fedex"),  # FedEx Express 12, check digit valid
        ("00340434292135100179", "dhl"),  # DHL Paket
        ("1234567891", "dhl"),  # DHL Express AWB, mod 7
        ("94001118992231974288", "usps"),
        ("RB123456785GB", "usps"),  # UPU S10
    ],
)
def test_detects_the_carrier_from_the_format_and_check_digit(number, carrier):
    assert detect_carrier(number) == carrier


@pytest.mark.parametrize(
    "number",
    ["1Z999AA10123456785", "123456789013", "RB123456784GB", "", "hello", "12"],
)
def test_a_wrong_check_digit_or_unknown_format_is_not_guessed(number):
    assert detect_carrier(number) is None


@pytest.mark.parametrize("carrier", ["ups", "fedex", "dhl"])
def test_demo_numbers_are_well_formed_for_their_carrier(carrier):
    numbers = {example_number(carrier, i) for i in range(200)}
    assert len(numbers) == 200
    assert {detect_carrier(n) for n in numbers} == {carrier}


def test_normalize():
    assert normalize_tracking_number(" 1z-999 aa1 ") == "1Z999AA1"
