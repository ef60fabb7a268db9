"""Every fact about every carrier the product supports, in one place, free of Django.

Models (the carrier choices), settings (environment names, rate-limit defaults, credentials),
the adapter registry, the demo data, the expiry rule, the public tracking links and the
development tools all read this list; nothing else lists carriers.

Adding a carrier: one `CarrierInfo` below, one adapter module (with its tests), one format in
the carrier sandbox, and a migration for the model choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True, slots=True)
class CarrierInfo:
    code: str  # stored on shipments and used in URLs and JSON
    name: str  # shown to people
    env_prefix: str  # `<PREFIX>_API_BASE_URL`, `<PREFIX>_RATE_LIMIT`, `<PREFIX>_<CREDENTIAL>`
    rate_limit: float  # documented requests per second, shared by every process
    batch_size: int  # tracking numbers per carrier request
    express: bool  # express carriers expire after 30 days without news, postal ones after 60
    adapter: str  # "module:Class"
    tracking_url: str  # the carrier's own public tracking page, `{number}` inside
    credentials: tuple[str, ...] = ()  # credential names; the environment has PREFIX_NAME
    # Courier codes of the `tracking-numbers` library whose formats this carrier tracks.
    number_formats: tuple[str, ...] = ()
    # Other names shops give this carrier (Shopify's `tracking_company` values); the code and
    # `name` always match too.
    aliases: tuple[str, ...] = ()
    # A tracking service that asks the real carrier for us (17TRACK, AfterShip): shoppers see the
    # carrier it reports (stored on the shipment), never the aggregator.
    aggregator: bool = False

    @property
    def credential_env(self) -> dict[str, str]:
        """Credential name → environment variable (`api_key` → `DHL_API_KEY`)."""
        return {name: f"{self.env_prefix}_{name.upper()}" for name in self.credentials}


_API_KEY = ("api_key",)
_OAUTH = ("client_id", "client_secret")

CARRIERS: tuple[CarrierInfo, ...] = (
    CarrierInfo(
        code="dhl",
        name="DHL",
        env_prefix="DHL",
        rate_limit=1.0,
        batch_size=1,
        express=True,
        adapter="shipments.carriers.dhl:DHLAdapter",
        number_formats=("dhl",),
        tracking_url=(
            "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html"
            "?submit=1&tracking-id={number}"
        ),
        credentials=_API_KEY,
        aliases=(
            "DHL Express",
            "DHL eCommerce",
            "DHL eCommerce Asia",
            "DHL Parcel",
            "Deutsche Post",
        ),
    ),
    CarrierInfo(
        code="ups",
        name="UPS",
        env_prefix="UPS",
        rate_limit=10.0,
        batch_size=1,
        express=True,
        adapter="shipments.carriers.ups:UPSAdapter",
        number_formats=("ups",),
        tracking_url="https://www.ups.com/track?loc=en_US&tracknum={number}",
        credentials=_OAUTH,
        aliases=("United Parcel Service",),
    ),
    CarrierInfo(
        code="fedex",
        name="FedEx",
        env_prefix="FEDEX",
        rate_limit=140.0,
        batch_size=30,
        express=True,
        adapter="shipments.carriers.fedex:FedExAdapter",
        number_formats=("fedex",),
        tracking_url="https://www.fedex.com/fedextrack/?trknbr={number}",
        credentials=_OAUTH,
        aliases=("Federal Express",),
    ),
    CarrierInfo(
        code="usps",
        name="USPS",
        env_prefix="USPS",
        rate_limit=10.0,
        batch_size=1,
        express=False,
        adapter="shipments.carriers.usps:USPSAdapter",
        number_formats=("usps", "s10"),
        tracking_url="https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
        credentials=_OAUTH,
        aliases=("United States Postal Service",),
    ),
    CarrierInfo(
        code="17track",
        name="17TRACK",
        env_prefix="SEVENTEENTRACK",
        rate_limit=3.0,
        batch_size=40,
        express=False,
        adapter="shipments.carriers.seventeentrack:SeventeenTrackAdapter",
        tracking_url="https://t.17track.net/en#nums={number}",
        credentials=_API_KEY,
        aggregator=True,
    ),
    CarrierInfo(
        code="aftership",
        name="AfterShip",
        env_prefix="AFTERSHIP",
        rate_limit=5.0,
        batch_size=1,
        express=False,
        adapter="shipments.carriers.aftership:AfterShipAdapter",
        tracking_url="https://track.aftership.com/trackings?tracking-numbers={number}",
        credentials=_API_KEY,
        aggregator=True,
    ),
)

BY_CODE: dict[str, CarrierInfo] = {carrier.code: carrier for carrier in CARRIERS}
CODES: tuple[str, ...] = tuple(BY_CODE)
EXPRESS_CODES: frozenset[str] = frozenset(c.code for c in CARRIERS if c.express)
AGGREGATOR_CODES: frozenset[str] = frozenset(c.code for c in CARRIERS if c.aggregator)
# `tracking-numbers` courier code → our carrier code (UPU S10 numbers are international postal
# items: USPS tracks their US leg).
BY_NUMBER_FORMAT: dict[str, str] = {fmt: c.code for c in CARRIERS for fmt in c.number_formats}


def name_key(name: str) -> str:
    """A carrier name as names are compared: case-folded, single spaces (`" DHL  express"` →
    `"dhl express"`)."""
    return " ".join((name or "").split()).casefold()


# Every name a carrier goes by (its code, its name, its aliases), compared by `name_key`.
BY_NAME: dict[str, str] = {
    name_key(name): c.code for c in CARRIERS for name in (c.code, c.name, *c.aliases)
}


def get(code: str) -> CarrierInfo | None:
    return BY_CODE.get(code)


def public_tracking_url(code: str, tracking_number: str) -> str | None:
    """The carrier's own tracking page for this number (URL-quoted), or None for a code that is
    not in the catalogue."""
    info = BY_CODE.get(code)
    return info.tracking_url.format(number=quote(tracking_number, safe="")) if info else None
