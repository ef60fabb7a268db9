"""What every adapter does alike over real HTTP: rate limits, server errors, timeouts, tokens.

Each carrier's own behaviour (request shapes, per-number outcomes, batching) is tested in its
own module; the cases here hold what the carriers agree on, one test per carrier.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from carrier_sandbox import native_adapter
from shipments.carriers import aftership, catalogue, dhl, fedex, seventeentrack, ups, usps
from shipments.carriers.base import (
    BatchOutcome,
    CarrierAdapter,
    CarrierUnavailable,
    InvalidCredentials,
    RateLimited,
)
from shipments.carriers.registry import get_adapter
from shipments.carriers.statuses import Status as S
from shipments.tests.replay import ReplayServer

from .support import TOKEN_PATHS, add_token, load_payload


@dataclass(frozen=True)
class Case:
    code: str
    adapter: type[CarrierAdapter]
    credentials: dict[str, str] | None
    method: str
    track: str  # path pattern of the tracking requests
    numbers: tuple[str, ...]  # more than one request's worth where the carrier batches
    batch_size: int
    public_url: str  # of numbers[0]
    canned: dict[str, str] = field(default_factory=dict)  # answer → the carrier's payload file
    oauth: bool = False

    @property
    def number(self) -> str:
        return self.numbers[0]

    def body(self, answer: str, default: Any = None) -> Any:
        """The carrier's canned payload for `answer` ("429", "401", ...), else `default`."""
        name = self.canned.get(answer)
        return load_payload(self.code, name) if name else default


FEDEX_NUMBERS = tuple(f"7946{n:08d}" for n in range(31))  # two POSTs: 30 + 1

CASES = [
    Case(
        "dhl",
        dhl.DHLAdapter,
        {"api_key": "k-123"},
        "GET",
        r"^/track/shipments$",
        ("00340434161094042557", "00340434161094042564"),
        batch_size=1,
        public_url=(
            "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html"
            "?submit=1&tracking-id=00340434161094042557"
        ),
        canned={"429": "too_many_requests.json", "401": "unauthorized.json"},
    ),
    Case(
        "ups",
        ups.UPSAdapter,
        {"client_id": "ups-client-id", "client_secret": "ups-secret"},
        "GET",
        r"^/api/track/v1/details/",
        ("1Z4E12340312345675", "1Z4E12340312345682"),
        batch_size=1,
        public_url="https://www.ups.com/track?loc=en_US&tracknum=1Z4E12340312345675",
        canned={
            "429": "too_many_requests.json",
            "401": "unauthorized.json",
            "token_refused": "token_refused.json",
            "ok": "out_for_delivery.json",
        },
        oauth=True,
    ),
    Case(
        "fedex",
        fedex.FedExAdapter,
        {"client_id": "fx-key", "client_secret": "fx-secret"},
        "POST",
        r"^/track/v1/trackingnumbers$",
        FEDEX_NUMBERS,
        batch_size=30,
        public_url=f"https://www.fedex.com/fedextrack/?trknbr={FEDEX_NUMBERS[0]}",
        canned={
            "429": "too_many_requests.json",
            "401": "unauthorized.json",
            "token_refused": "token_refused.json",
            "ok": "out_for_delivery.json",
        },
        oauth=True,
    ),
    Case(
        "usps",
        usps.USPSAdapter,
        {"client_id": "resync-usps-client", "client_secret": "s3cret"},
        "GET",
        r"^/tracking/v3/tracking/",
        ("9400136105541234567890", "9400136105541234567891"),
        batch_size=1,
        public_url=("https://tools.usps.com/go/TrackConfirmAction?tLabels=9400136105541234567890"),
        canned={
            "429": "rate_limited_429.json",
            "401": "unauthorized_401.json",
            "token_refused": "token_invalid_client.json",
            "ok": "out_for_delivery.json",
        },
        oauth=True,
    ),
    Case(
        "17track",
        seventeentrack.SeventeenTrackAdapter,
        {"api_key": "k-17"},
        "POST",
        r"^/track/v2\.2/gettrackinfo$",
        ("RB701234565SG", "LZ482913375CN"),
        batch_size=40,
        public_url="https://t.17track.net/en#nums=RB701234565SG",
        canned={"401": "invalid_key.json"},
    ),
    Case(
        "aftership",
        aftership.AfterShipAdapter,
        {"api_key": "as-k"},
        "GET",
        r"^/tracking/2025-01/trackings$",
        ("RR384761925SG", "1ZA81F270398765432"),
        batch_size=1,
        public_url="https://track.aftership.com/trackings?tracking-numbers=RR384761925SG",
        canned={"429": "rate_limited_429.json", "401": "invalid_key_401.json"},
    ),
    Case(
        "sandbox",
        native_adapter.SandboxAdapter,
        None,
        "GET",
        r"^/sandbox/v1/track$",
        ("SBX000000000001", "SBX000000000002"),
        batch_size=50,
        public_url="",  # the sandbox has no public tracking page
    ),
]
BY_CODE = {case.code: case for case in CASES}
OAUTH_CASES = [case for case in CASES if case.oauth]
API_KEY_CASES = [case for case in CASES if case.credentials and "api_key" in case.credentials]


def _ids(case: Case) -> str:
    return case.code


@pytest.fixture(params=CASES, ids=_ids)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


@pytest.fixture(params=OAUTH_CASES, ids=_ids)
def oauth_case(request: pytest.FixtureRequest) -> Case:
    return request.param


@pytest.fixture
def api(case: Case, carrier_api) -> ReplayServer:
    """The carrier's API is the replay server; an OAuth carrier's token endpoint answers."""
    replay = carrier_api(case.code, case.credentials)
    if case.oauth:
        add_token(replay, case.code, f"{case.code}-token-1")
    return replay


@pytest.fixture
def oauth_api(oauth_case: Case, carrier_api) -> ReplayServer:
    """The OAuth carrier's API is the replay server, without any token answer yet."""
    return carrier_api(oauth_case.code, oauth_case.credentials)


def test_registry_builds_the_adapter(case: Case) -> None:
    adapter = get_adapter(case.code)
    assert isinstance(adapter, case.adapter)
    assert adapter.code == case.code
    info = catalogue.get(case.code)
    assert (info.batch_size if info else native_adapter.BATCH_SIZE) == case.batch_size
    assert (catalogue.public_tracking_url(case.code, case.number) or "") == case.public_url


def test_nothing_to_track(case: Case, api: ReplayServer) -> None:
    assert case.adapter().track([]) == BatchOutcome()
    assert api.requests == []


def add_429(case: Case, api: ReplayServer, retry_after: str) -> None:
    headers = {"Retry-After": retry_after}
    api.add(case.method, case.track, json=case.body("429"), status=429, headers=headers)


def test_429_with_retry_after_seconds(case: Case, api: ReplayServer) -> None:
    add_429(case, api, "7")
    with pytest.raises(RateLimited) as caught:
        case.adapter().track([case.number])
    assert caught.value.retry_after == pytest.approx(7)
    assert caught.value.carrier == case.code


def test_429_without_retry_after(case: Case, api: ReplayServer) -> None:
    api.add(case.method, case.track, json=case.body("429"), status=429)
    with pytest.raises(RateLimited) as caught:
        case.adapter().track([case.number])
    assert caught.value.retry_after is None


def test_429_with_retry_after_http_date(case: Case, api: ReplayServer) -> None:
    add_429(case, api, email.utils.formatdate(time.time() + 60, usegmt=True))
    with pytest.raises(RateLimited) as caught:
        case.adapter().track([case.number])
    assert 58 <= caught.value.retry_after <= 60


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_for_every_number_is_raised(case: Case, api: ReplayServer, status) -> None:
    api.add(case.method, case.track, json={"error": "boom"}, status=status)
    with pytest.raises(CarrierUnavailable):
        case.adapter().track(list(case.numbers))


def test_timeout_is_unavailable_quickly(case: Case, api: ReplayServer, settings) -> None:
    settings.CARRIER_READ_TIMEOUT = 0.3
    api.add(case.method, case.track, json={}, delay=2)

    started = time.monotonic()
    with pytest.raises(CarrierUnavailable):
        case.adapter().track([case.number])
    assert time.monotonic() - started < 1.5


def test_unreadable_200_body_is_unavailable(case: Case, api: ReplayServer) -> None:
    api.add(case.method, case.track, body="<html>gateway</html>")
    with pytest.raises(CarrierUnavailable):
        case.adapter().track([case.number])


@pytest.mark.parametrize("case", API_KEY_CASES, ids=_ids, indirect=True)
def test_refused_api_key_is_invalid_credentials(case: Case, api: ReplayServer) -> None:
    api.add(case.method, case.track, json=case.body("401"), status=401)
    with pytest.raises(InvalidCredentials):
        case.adapter().track(list(case.numbers))


@pytest.mark.parametrize(
    ("case", "credentials"),
    [
        (BY_CODE["dhl"], {"api_key": ""}),
        (BY_CODE["ups"], {"client_id": "x"}),
        (BY_CODE["fedex"], {}),
    ],
    ids=["dhl", "ups", "fedex"],
    indirect=["case"],
)
def test_missing_credentials_make_no_call(
    case: Case, api: ReplayServer, settings, credentials: dict[str, Any]
) -> None:
    settings.CARRIER_CREDENTIALS = {**settings.CARRIER_CREDENTIALS, case.code: credentials}
    with pytest.raises(InvalidCredentials):
        case.adapter().track([case.number])
    assert api.requests == []


# --- OAuth tokens (UPS, FedEx, USPS) ---------------------------------------------------------------


def test_401_refreshes_the_token_once(oauth_case: Case, oauth_api: ReplayServer) -> None:
    case, api = oauth_case, oauth_api
    add_token(api, case.code, "old-token", times=1)
    add_token(api, case.code, "new-token")
    api.add(case.method, case.track, json=case.body("401"), status=401, times=1)
    api.add(case.method, case.track, json=case.body("ok"))

    outcome = case.adapter().track([case.number])

    assert outcome.results[case.number].status == S.OUT_FOR_DELIVERY
    assert len(api.requests_to(TOKEN_PATHS[case.code])) == 2
    tracks = api.requests_to(case.track)
    assert [r.headers["authorization"] for r in tracks] == ["Bearer old-token", "Bearer new-token"]


@pytest.mark.parametrize(
    "tokens", [("old-token", "new-token"), ("same-token", "same-token")], ids=["new", "same"]
)
def test_401_twice_is_invalid_credentials(
    oauth_case: Case, oauth_api: ReplayServer, tokens: tuple[str, str]
) -> None:
    # The refresh is counted, not recognised by a new token string: the carrier may hand out
    # the same one again.
    case, api = oauth_case, oauth_api
    add_token(api, case.code, tokens[0], times=1)
    add_token(api, case.code, tokens[1])
    api.add(case.method, case.track, json=case.body("401"), status=401)

    with pytest.raises(InvalidCredentials):
        case.adapter().track(list(case.numbers))

    # One refresh for the whole call, then each request (two here) tried exactly twice.
    assert len(api.requests_to(TOKEN_PATHS[case.code])) == 2
    assert len(api.requests_to(case.track)) == 4


@pytest.mark.parametrize("status", [400, 401])
def test_refused_client_credentials_make_no_tracking_call(
    oauth_case: Case, oauth_api: ReplayServer, status: int
) -> None:
    case, api = oauth_case, oauth_api
    api.add("POST", TOKEN_PATHS[case.code], json=case.body("token_refused"), status=status)
    with pytest.raises(InvalidCredentials):
        case.adapter().track([case.number])
    assert api.requests == api.requests_to(TOKEN_PATHS[case.code])  # nothing else was asked


def test_token_endpoint_down_is_unavailable(oauth_case: Case, oauth_api: ReplayServer) -> None:
    case, api = oauth_case, oauth_api
    api.add("POST", TOKEN_PATHS[case.code], json={}, status=503)
    with pytest.raises(CarrierUnavailable):
        case.adapter().track([case.number])
    assert api.requests == api.requests_to(TOKEN_PATHS[case.code])  # nothing else was asked
