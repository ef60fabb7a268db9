"""The translation catalogues in locale/: every shipped `.mo` is its `.po` compiled (the README's
commands need no gettext tools), and every shopper-facing string is translated (SPEC §10)."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from shipments.messages import (
    NOTHING_NEW,
    NOTHING_YET,
    RESYNC_STARTED_NO_JS,
    SHOPPER_FAILED,
    SHOPPER_UPDATED,
    SUCCESS_MESSAGE,
    UNAVAILABLE,
)
from shipments.models import ShipmentStatus
from tracking.presenters import ALERTS, STEPS

LOCALE = Path(settings.BASE_DIR) / "locale"
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# Where shopper-facing strings come from: every entry that cites one of these must be translated.
SHOPPER_SOURCES = ("templates/tracking/", "tracking/")


def parse_po(path: Path) -> list[dict]:
    """The entries of a .po file: msgid, msgid_plural, msgstr (a str, or a list for plurals),
    fuzzy, references. Enough of the format for what makemessages writes."""
    entries: list[dict] = []
    entry: dict = {}
    field = None

    def finish() -> None:
        if "msgid" in entry:
            entries.append(entry.copy())
        entry.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            finish()
            field = None
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#:"):
            entry.setdefault("refs", []).extend(line[2:].split())
            continue
        if line.startswith("#,"):
            entry["fuzzy"] = entry.get("fuzzy", False) or "fuzzy" in line
            continue
        if line.startswith("#"):
            continue
        match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
        if match:
            keyword, index, text = match.groups()
            if "msgid" in entry and keyword in ("msgid", "msgctxt") and "msgstr" in entry:
                finish()
            field = keyword if index is None else ("msgstr", int(index))
            value = ast.literal_eval(text)
            if isinstance(field, tuple):
                entry.setdefault("msgstr", {})[field[1]] = value
            else:
                entry[field] = value
            continue
        # A continuation line of the current field.
        value = ast.literal_eval(line)
        if isinstance(field, tuple):
            entry["msgstr"][field[1]] += value
        else:
            entry[field] += value
    finish()
    return entries


def expected_catalog(entries: list[dict]) -> dict:
    """What `gettext.GNUTranslations` reads from the compiled file: translated, not fuzzy."""
    catalog: dict = {}
    for entry in entries:
        if entry.get("fuzzy") and entry["msgid"]:
            continue
        key = (
            entry["msgid"] if "msgctxt" not in entry else f"{entry['msgctxt']}\x04{entry['msgid']}"
        )
        msgstr = entry.get("msgstr", "")
        if isinstance(msgstr, dict):
            if all(msgstr.values()):
                catalog.update({(key, n): text for n, text in msgstr.items()})
        elif msgstr:
            catalog[key] = msgstr
    return catalog


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_compiled_catalogue_is_the_po_file(lang):
    po = LOCALE / lang / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    assert po.exists()
    assert mo.exists(), f"run: python manage.py compilemessages ({lang})"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    expected = expected_catalog(parse_po(po))
    compiled = {key: value for key, value in compiled.items() if key != ""}
    expected = {key: value for key, value in expected.items() if key != ""}
    assert compiled == expected, f"{mo} is stale: run python manage.py compilemessages"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_shopper_facing_string_is_translated(lang):
    entries = parse_po(LOCALE / lang / "LC_MESSAGES" / "django.po")
    catalog = expected_catalog(entries)
    shopper = {
        entry["msgid"]
        for entry in entries
        if any(ref.startswith(SHOPPER_SOURCES) for ref in entry.get("refs", []))
    }
    with translation.override(None):  # the msgids themselves
        named = {
            str(text)
            for text in (
                SUCCESS_MESSAGE,
                NOTHING_NEW,
                NOTHING_YET,
                SHOPPER_FAILED,
                SHOPPER_UPDATED,
                RESYNC_STARTED_NO_JS,
                UNAVAILABLE,
                *ShipmentStatus.labels,
                *(label for _key, label in STEPS),
                *ALERTS.values(),
            )
        }
    named |= {
        "Too many resyncs from your connection. Please try again in %(wait)s.",
        "You can resync again in %(wait)s.",
        "%(h)d h %(m)d min",
        "%(m)d min %(s)d s",
        "%(s)d s",
    }
    missing = sorted(msgid for msgid in shopper | named if msgid and msgid not in catalog)
    assert missing == [], f"untranslated in {lang}: {missing}"


def test_placeholders_survive_translation():
    for lang in TRANSLATED:
        for entry in parse_po(LOCALE / lang / "LC_MESSAGES" / "django.po"):
            msgstr = entry.get("msgstr")
            if not isinstance(msgstr, str) or not msgstr:
                continue
            for pattern in (r"%\(\w+\)[sd]", r"\{\w+\}"):
                wanted = sorted(re.findall(pattern, entry["msgid"]))
                assert sorted(re.findall(pattern, msgstr)) == wanted, (lang, entry["msgid"])


# --- Strings not yet extracted: a new shopper-facing text fails here until makemessages ran ------

_TRANSLATE = re.compile(r"""\{%\s*translate\s+(?:"([^"]*)"|'([^']*)')(?:\s+[^%]*)?%\}""")
_BLOCK = re.compile(r"\{%\s*blocktranslate\b([^%]*)%\}(.*?)\{%\s*endblocktranslate\s*%\}", re.S)


def _template_msgids(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    found = {double or single for double, single in _TRANSLATE.findall(text)}
    for options, body in _BLOCK.findall(text):
        assert "count" not in options.split(), f"{path}: plural blocks are not checked here"
        if "trimmed" in options.split():
            body = " ".join(line.strip() for line in body.strip().splitlines())
        found.add(re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", body))
    return found


def _python_msgids(path: Path) -> set[str]:
    names = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy"}
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in names
            and node.args
            and isinstance(node.args[-1], ast.Constant)
            and isinstance(node.args[-1].value, str)
        ):
            found.add(node.args[-1].value)
    return found


def shopper_source_msgids() -> set[str]:
    root = Path(settings.BASE_DIR)
    found: set[str] = set()
    for template in sorted((root / "templates" / "tracking").glob("*.html")):
        found |= _template_msgids(template)
    for module in sorted((root / "tracking").glob("*.py")):
        found |= _python_msgids(module)
    return found


def test_the_scanner_sees_the_pages_strings():
    msgids = shopper_source_msgids()
    assert {"Tracking history", "Times are shown in %(zone)s.", "Order number"} <= msgids


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_string_of_the_shoppers_pages_is_in_the_catalogue(lang):
    catalog = expected_catalog(parse_po(LOCALE / lang / "LC_MESSAGES" / "django.po"))
    missing = sorted(shopper_source_msgids() - set(catalog))
    assert missing == [], (
        f"not translated in locale/{lang}: {missing} "
        "(README, Languages: makemessages, translate, compilemessages)"
    )
