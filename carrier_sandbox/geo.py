"""Places the sandbox ships between: real cities with region, postal code and time zone.

The tables are small on purpose; they only need to look plausible in a timeline. Hubs are the
sorting centres and gateways a parcel passes through between its origin and its destination.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True, slots=True)
class Country:
    code: str  # ISO 3166-1 alpha-2
    code3: str  # alpha-3 (AfterShip)
    name: str
    tz: str  # default zone for a place given only as "City, CC"


@dataclass(frozen=True, slots=True)
class Place:
    city: str
    country: str  # alpha-2
    region: str = ""  # state / province where addresses use one (US, CA, AU)
    postal: str = ""
    tz: str = "UTC"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return _zone(self.tz)

    @property
    def country3(self) -> str:
        info = COUNTRIES.get(self.country)
        return info.code3 if info else ""

    @property
    def country_name(self) -> str:
        info = COUNTRIES.get(self.country)
        return info.name if info else self.country

    @property
    def label(self) -> str:
        """`Chicago, IL, US` or `Berlin, DE` (the app's location format)."""
        return ", ".join(part for part in (self.city, self.region, self.country) if part)


@cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in (
        Country("US", "USA", "United States", "America/New_York"),
        Country("CA", "CAN", "Canada", "America/Toronto"),
        Country("DE", "DEU", "Germany", "Europe/Berlin"),
        Country("GB", "GBR", "United Kingdom", "Europe/London"),
        Country("FR", "FRA", "France", "Europe/Paris"),
        Country("NL", "NLD", "Netherlands", "Europe/Amsterdam"),
        Country("CN", "CHN", "China", "Asia/Shanghai"),
        Country("SG", "SGP", "Singapore", "Asia/Singapore"),
        Country("AU", "AUS", "Australia", "Australia/Sydney"),
        Country("JP", "JPN", "Japan", "Asia/Tokyo"),
    )
}


def _us(city: str, state: str, zip_code: str, tz: str = "America/New_York") -> Place:
    return Place(city, "US", state, zip_code, tz)


_CHI = "America/Chicago"
_DEN = "America/Denver"
_LA = "America/Los_Angeles"

# Cities where parcels start and end.
CITIES: dict[str, tuple[Place, ...]] = {
    "US": (
        _us("New York", "NY", "10001"),
        _us("Brooklyn", "NY", "11201"),
        _us("Boston", "MA", "02110"),
        _us("Philadelphia", "PA", "19103"),
        _us("Baltimore", "MD", "21201"),
        _us("Atlanta", "GA", "30303"),
        _us("Miami", "FL", "33130"),
        _us("Orlando", "FL", "32801"),
        _us("Charlotte", "NC", "28202"),
        _us("Columbus", "OH", "43215"),
        _us("Detroit", "MI", "48226", "America/Detroit"),
        _us("Nashville", "TN", "37203", _CHI),
        _us("Chicago", "IL", "60607", _CHI),
        _us("Minneapolis", "MN", "55401", _CHI),
        _us("St. Louis", "MO", "63101", _CHI),
        _us("Dallas", "TX", "75201", _CHI),
        _us("Houston", "TX", "77002", _CHI),
        _us("Austin", "TX", "78701", _CHI),
        _us("San Antonio", "TX", "78205", _CHI),
        _us("Denver", "CO", "80202", _DEN),
        _us("Phoenix", "AZ", "85004", "America/Phoenix"),
        _us("Las Vegas", "NV", "89101", _LA),
        _us("Reno", "NV", "89502", _LA),
        _us("Los Angeles", "CA", "90012", _LA),
        _us("San Diego", "CA", "92101", _LA),
        _us("San Francisco", "CA", "94103", _LA),
        _us("Sacramento", "CA", "95814", _LA),
        _us("Portland", "OR", "97204", _LA),
        _us("Seattle", "WA", "98101", _LA),
    ),
    "CA": (
        Place("Toronto", "CA", "ON", "M5H 2N2", "America/Toronto"),
        Place("Montreal", "CA", "QC", "H2Y 1C6", "America/Toronto"),
        Place("Vancouver", "CA", "BC", "V6B 1A1", "America/Vancouver"),
        Place("Calgary", "CA", "AB", "T2P 1J9", "America/Edmonton"),
    ),
    "DE": tuple(
        Place(city, "DE", "", postal, "Europe/Berlin")
        for city, postal in (
            ("Berlin", "10117"),
            ("Hamburg", "20095"),
            ("München", "80331"),
            ("Köln", "50667"),
            ("Frankfurt am Main", "60311"),
            ("Stuttgart", "70173"),
            ("Düsseldorf", "40213"),
            ("Leipzig", "04109"),
            ("Dortmund", "44135"),
            ("Bonn", "53113"),
            ("Hannover", "30159"),
            ("Nürnberg", "90402"),
            ("Bremen", "28195"),
            ("Dresden", "01067"),
        )
    ),
    "GB": tuple(
        Place(city, "GB", "", postal, "Europe/London")
        for city, postal in (
            ("London", "EC1A 1BB"),
            ("Manchester", "M1 1AE"),
            ("Birmingham", "B1 1AA"),
            ("Leeds", "LS1 4AP"),
            ("Glasgow", "G1 1XQ"),
            ("Bristol", "BS1 4DJ"),
        )
    ),
    "FR": tuple(
        Place(city, "FR", "", postal, "Europe/Paris")
        for city, postal in (("Paris", "75001"), ("Lyon", "69002"), ("Marseille", "13001"))
    ),
    "NL": tuple(
        Place(city, "NL", "", postal, "Europe/Amsterdam")
        for city, postal in (
            ("Amsterdam", "1012 AB"),
            ("Rotterdam", "3011 AA"),
            ("Utrecht", "3511 AA"),
        )
    ),
    "CN": tuple(
        Place(city, "CN", "", postal, "Asia/Shanghai")
        for city, postal in (
            ("Shenzhen", "518000"),
            ("Guangzhou", "510000"),
            ("Shanghai", "200000"),
            ("Yiwu", "322000"),
            ("Hangzhou", "310000"),
            ("Beijing", "100000"),
        )
    ),
    "SG": (Place("Singapore", "SG", "", "018989", "Asia/Singapore"),),
    "AU": (
        Place("Sydney", "AU", "NSW", "2000", "Australia/Sydney"),
        Place("Melbourne", "AU", "VIC", "3000", "Australia/Melbourne"),
        Place("Brisbane", "AU", "QLD", "4000", "Australia/Brisbane"),
    ),
    "JP": (
        Place("Tokyo", "JP", "", "100-0005", "Asia/Tokyo"),
        Place("Osaka", "JP", "", "530-0001", "Asia/Tokyo"),
    ),
}

# Domestic sorting hubs.
HUBS: dict[str, tuple[Place, ...]] = {
    "US": (
        _us("Louisville", "KY", "40209", "America/Kentucky/Louisville"),
        _us("Memphis", "TN", "38118", _CHI),
        _us("Indianapolis", "IN", "46241", "America/Indiana/Indianapolis"),
        _us("Hodgkins", "IL", "60525", _CHI),
        _us("Ontario", "CA", "91761", _LA),
        _us("Fort Worth", "TX", "76177", _CHI),
        _us("Kansas City", "MO", "64153", _CHI),
        _us("Salt Lake City", "UT", "84116", _DEN),
        _us("Newark", "NJ", "07114"),
    ),
    "DE": tuple(
        Place(city, "DE", "", postal, "Europe/Berlin")
        for city, postal in (
            ("Obertshausen", "63179"),
            ("Rüdersdorf", "15562"),
            ("Aschheim", "85609"),
            ("Bochum", "44809"),
            ("Hagen", "58093"),
            ("Greven", "48268"),
        )
    ),
    "GB": (
        Place("Castle Donington", "GB", "", "DE74 2SA", "Europe/London"),
        Place("Coventry", "GB", "", "CV3 4PE", "Europe/London"),
    ),
}

# International gateways (export and import).
GATEWAYS: dict[str, tuple[Place, ...]] = {
    "US": (
        _us("Jamaica", "NY", "11434"),
        _us("Los Angeles", "CA", "90045", _LA),
        _us("Chicago", "IL", "60666", _CHI),
        _us("Cincinnati", "OH", "41048"),
    ),
    "CA": (Place("Mississauga", "CA", "ON", "L5P 1B2", "America/Toronto"),),
    "DE": (Place("Leipzig", "DE", "", "04435", "Europe/Berlin"),),
    "GB": (Place("Castle Donington", "GB", "", "DE74 2SA", "Europe/London"),),
    "FR": (Place("Roissy-en-France", "FR", "", "95700", "Europe/Paris"),),
    "NL": (Place("Schiphol", "NL", "", "1118 AA", "Europe/Amsterdam"),),
    "CN": (
        Place("Shanghai", "CN", "", "201202", "Asia/Shanghai"),
        Place("Guangzhou", "CN", "", "510470", "Asia/Shanghai"),
    ),
    "SG": (Place("Singapore", "SG", "", "819663", "Asia/Singapore"),),
    "AU": (Place("Mascot", "AU", "NSW", "2020", "Australia/Sydney"),),
    "JP": (Place("Narita", "JP", "", "282-0004", "Asia/Tokyo"),),
}


def _all_places() -> dict[tuple[str, str], Place]:
    known: dict[tuple[str, str], Place] = {}
    for table in (GATEWAYS, HUBS, CITIES):  # later tables win: prefer the city entry
        for places in table.values():
            for place in places:
                known[(place.city.casefold(), place.country)] = place
    return known


_KNOWN = _all_places()


def parse_location(text: str) -> Place:
    """A place from `City, CC` or `City, Region, CC` (known cities get their postal code/zone)."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not parts:
        return Place("", "", tz="UTC")
    country = ""
    if len(parts) > 1 and len(parts[-1]) == 2 and parts[-1].isalpha():
        country = parts.pop().upper()
    city = parts[0]
    region = parts[1] if len(parts) > 1 else ""
    found = _KNOWN.get((city.casefold(), country))
    if found is None and not country:
        matches = [p for (name, _), p in _KNOWN.items() if name == city.casefold()]
        found = matches[0] if len(matches) == 1 else None
    if found is not None:
        return found
    tz = COUNTRIES[country].tz if country in COUNTRIES else "UTC"
    return Place(city, country, region, "", tz)
