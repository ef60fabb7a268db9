"""CSV import: every bad file or bad row is refused with a clear message, a 4xx and nothing
stored; every bad row is listed; no input gives a 500."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client

from shipments.tests.fixtures import make_shipment

from .csv_helpers import HEADER, JSON, URL, csv_file, stored, upload

pytestmark = pytest.mark.django_db

GOOD = "#1,ann@example.com,X-1,,"
SAVE_AS = "CSV UTF-8"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("shipments.csv", csv_file(GOOD))
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PNG, "not a CSV file: it looks like a PNG image"),
        (_zip(), "not a CSV file: it looks like a ZIP archive"),
        (b"GIF89a\x01\x00", "GIF image"),
        (b"order_number,email\x00,tracking_number\n", "binary data"),
        ("order_number,email,tracking_number\r\n#1,é@x.fr,X\r\n".encode("latin-1"), "not UTF-8"),
        ("\ufefforder_number,email,tracking_number\n#1,a@b.c,X\n".encode("utf-16"), "UTF-16"),
        (b"", "The file is empty"),
        (b"\xef\xbb\xbf\r\n\r\n", "The file is empty"),
        (HEADER.encode() + b"\r\n", "no rows below it"),
        (b"order,mail,number\r\n1,a@b.c,X\r\n", "“order_number” is missing"),
        (b'order_number,email,tracking_number\r\n"#1,a@b.c,X\r\n', "cannot be read as CSV"),
    ],
    ids=[
        "png",
        "zip",
        "gif",
        "nul",
        "latin1",
        "utf16",
        "empty",
        "blank",
        "header-only",
        "missing-columns",
        "open-quote",
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(merchant_client, content, expected):
    response = upload(merchant_client, content, **JSON)
    assert response.status_code == 400
    body = response.json()
    assert any(expected in e["message"] for e in body["errors"]), body
    assert set(body["errors"][0]) == {"row", "column", "message"}
    assert stored() == (0, 0, 0, 0)
    page = upload(merchant_client, content)
    assert page.status_code == 400
    assert 'role="alert"' in page.content.decode()
    assert stored() == (0, 0, 0, 0)


def test_the_wrong_encoding_says_to_save_as_utf8(merchant_client):
    content = "order_number,email,tracking_number\r\n#1,zoë@example.com,X-1\r\n".encode("cp1252")
    body = upload(merchant_client, content, **JSON).json()
    assert body["errors"] == [
        {"row": 2, "column": None, "message": body["errors"][0]["message"]},
    ]
    assert "not UTF-8" in body["errors"][0]["message"]
    assert SAVE_AS in body["errors"][0]["message"]


def test_missing_columns_are_named(merchant_client):
    body = upload(merchant_client, b"order_number,carrier\r\n#1,ups\r\n", **JSON).json()
    assert [(e["row"], e["column"]) for e in body["errors"]] == [
        (1, "email"),
        (1, "tracking_number"),
    ]


def test_every_bad_row_is_listed_and_nothing_is_stored(merchant_client, store):
    make_shipment(store)
    before = stored()
    content = csv_file(
        GOOD,  # line 2: fine
        "#2,not-an-email,X-2,,",  # line 3
        "#3,ann@example.com,X-3,,2026-13-45",  # line 4
        ",ann@example.com,,,",  # line 5: two empty required cells
        "#4,ann@example.com," + "9" * 65 + ",,",  # line 6: too long
        "#5,ann@example.com,X-1,,",  # line 7: line 2's number, another order
        "#6,ann@example.com,X-6,,yesterday",  # line 8
        "#7,ann@example.com,X-7,,,surplus",  # line 9: a cell more than the header
        "#1,ann@example.com,X-1,,",  # line 10: line 2 again, same order: fine
        "#8," + "a" * 250 + "@example.com,X-8,,",  # line 11: too long
        "#9,ann@example.com,X-9," + "c" * 101 + ",",  # line 12: carrier too long
        '"#10\nmore",ann@example.com,X-10,,',  # lines 13-14: a line break in a cell
    )
    response = upload(merchant_client, content, **JSON)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [
        (3, "email"),
        (4, "shipped_at"),
        (5, "order_number"),
        (5, "tracking_number"),
        (6, "tracking_number"),
        (7, "tracking_number"),
        (8, "shipped_at"),
        (9, None),
        (11, "email"),
        (12, "carrier"),
        (13, "order_number"),
    ]
    messages = [e["message"] for e in errors]
    assert "not a valid e-mail address" in messages[0]
    assert "ISO 8601" in messages[1]
    assert "is empty" in messages[2]
    assert "too long: 65 characters, at most 64" in messages[4]
    assert "also on line 2, for order #1" in messages[5]
    assert "line break" in messages[10]
    assert stored() == before


def test_the_html_page_lists_the_errors_in_a_table_with_their_count(merchant_client):
    content = csv_file("#1,bad,X-1,,", "#2,ann@example.com,,,")
    response = upload(merchant_client, content)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "The file has 2 problems — nothing was imported" in html
    assert '<th scope="col">Line</th>' in html
    assert "<td>2</td><td><code>email</code></td>" in html
    assert "<td>3</td><td><code>tracking_number</code></td>" in html
    assert 'aria-invalid="true"' in html
    assert stored() == (0, 0, 0, 0)


def test_too_many_rows_follow_the_setting(merchant_client, settings):
    settings.CSV_IMPORT_MAX_ROWS = 2
    content = csv_file(GOOD, "#2,ann@example.com,X-2,,", "#3,ann@example.com,X-3,,")
    response = upload(merchant_client, content, **JSON)
    assert response.status_code == 400
    assert "more than 2 rows" in response.json()["errors"][0]["message"]
    assert stored() == (0, 0, 0, 0)


def test_a_file_over_the_byte_cap_is_413_with_a_message(merchant_client, settings):
    settings.CSV_IMPORT_MAX_BYTES = 1000
    content = csv_file(*[f"#{n},ann@example.com,X-{n},," for n in range(60)])
    assert len(content) > 1000
    response = upload(merchant_client, content, **JSON)
    assert response.status_code == 413
    assert "larger than" in response.json()["errors"][0]["message"]
    page = upload(merchant_client, content)
    assert page.status_code == 413
    assert "larger than" in page.content.decode()
    assert stored() == (0, 0, 0, 0)


def test_a_body_over_the_default_cap_is_refused_unread(merchant_client):
    content = b"x" * (6 * 1024 * 1024)
    response = upload(merchant_client, content, **JSON)
    assert response.status_code == 413
    assert "larger than 5 MB" in response.json()["error"]
    assert stored() == (0, 0, 0, 0)


def test_no_file_is_400(merchant_client):
    response = merchant_client.post(URL, {"file": "just text"}, **JSON)
    assert response.status_code == 400
    assert response.json()["errors"][0]["column"] == "file"
    assert merchant_client.post(URL, **JSON).status_code == 400


def test_the_upload_needs_the_csrf_token(merchant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(merchant)
    response = upload(client, csv_file(GOOD), **JSON)
    assert response.status_code == 403
    assert stored() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "content",
    [
        b"\xff" * 100,
        b"\r\r\r\n\n,,,,\n",
        b"order_number,email,tracking_number\r\n" + b"x" * 200_000 + b",a@b.c,X\r\n",
        b'order_number,email,tracking_number\r\n"a""b",a@b.c,"X"Y\r\n',
        b"order_number,email,tracking_number,shipped_at\r\n#1,a@b.c,X,0001-01-01T00:00+01:00\r\n",
        b"order_number,email,tracking_number,shipped_at\r\n#1,a@b.c,X,9999-12-31T23:59-01:00\r\n",
        b"order_number,email,tracking_number,shipped_at\r\n#1,a@b.c,X,2026-W47-1\r\n",
        b"order_number,order_number,email,tracking_number\r\n#1,#1,a@b.c,X\r\n",
        "order_number,email,tracking_number\r\n#1,ann@exämple.com,X\u202e\r\n".encode(),
        b"order_number,email,tracking_number\r\n#1,a@b.c,\x7f\r\n",
    ],
)
def test_odd_input_never_500(merchant_client, content):
    response = upload(merchant_client, content, **JSON)
    assert response.status_code in (201, 400), response.content[:300]
    if response.status_code == 400:
        assert response.json()["errors"]
        assert stored() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("multipart/form-data", b"--x\r\nnot a form"),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\n"),
        ("multipart/form-data; boundary=" + "b" * 300, b"--b"),
        ("application/json", b"{not json"),
        ("application/x-www-form-urlencoded", b"\xff\xfe=\xfd"),
        ("text/plain", b"x" * 100_000),
    ],
)
def test_broken_bodies_are_400_with_a_message(merchant_client, content_type, raw):
    response = merchant_client.generic("POST", URL, raw, content_type=content_type, **JSON)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["errors"][0]["message"]
    assert stored() == (0, 0, 0, 0)
