"""CSV import in the merchant app: `/app/shipments/import/` (the page, and the upload) and its
template file. HTML by default, JSON for `Accept: application/json`; the current store only.

    POST file=<csv>  → 201 {"created", "updated", "run"}
                     → 400 / 413 {"error", "errors": [{"row", "column", "message"}]}, nothing stored
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    UnreadablePostError,
)
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from shipments.responses import wants_json
from shipments.scoping import merchant_view

from .services import CsvRejected, csv_import
from .services.csv_import import (
    COLUMNS,
    DATE_EXAMPLES,
    REQUIRED,
    max_bytes,
    max_rows,
)
from .services.csv_read import CsvProblem, too_large

SESSION_KEY = "csv_import_done"
# The errors a page lists (the JSON answer lists them all).
PAGE_ERRORS = 1000
# The multipart envelope around the file (boundaries, headers, the CSRF token field).
FORM_OVERHEAD = 64 * 1024
TEMPLATE_ROWS = (
    COLUMNS,
    ("#1001", "ann@example.com", "1ZTYFZZS0308911167", "UPS", "2026-11-20"),
    ("#1002", "bob@example.com", "00340434473424666510", "DHL Express", "2026-11-20 14:30"),
    ("#1003", "cy@example.com", "PARCEL-12345", "Our courier", "2026-11-21T09:15:00+01:00"),
    ("#1004", "dee@example.com", "708545026227", "", ""),
)


def _declared_length(request: HttpRequest) -> int:
    value = request.META.get("CONTENT_LENGTH", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else 0


@csrf_exempt  # checked in `_import` below, once a body over the cap has been refused unread
@merchant_view
@require_http_methods(["GET", "HEAD", "POST"])
def shipment_import(request: HttpRequest) -> HttpResponse:
    """The import page; a POST of `file=` imports it (a file over the byte cap is refused
    before its body is read)."""
    if request.method == "POST":
        if _declared_length(request) > max_bytes() + FORM_OVERHEAD:
            return _rejected(request, too_large(max_bytes()))
        try:
            request.FILES  # noqa: B018 - parse the form here, to answer a broken one in kind
        except (MultiPartParserError, SuspiciousOperation, UnreadablePostError):
            message = _("The upload could not be read. Choose the CSV file and send it again.")
            return _rejected(request, CsvRejected([CsvProblem(None, "file", message)]))
    return _import(request)


@csrf_protect
def _import(request: HttpRequest) -> HttpResponse:
    if request.method != "POST" and wants_json(request):
        return JsonResponse(
            {
                "columns": list(COLUMNS),
                "required": list(REQUIRED),
                "max_rows": max_rows(),
                "max_bytes": max_bytes(),
                "template_url": reverse("connect:import_template"),
            }
        )
    if request.method != "POST":
        done = request.session.pop(SESSION_KEY, None) if request.method == "GET" else None
        return _page(request, done=done)
    upload = request.FILES.get("file")
    if upload is None:
        message = _("Choose a CSV file to upload.")
        return _rejected(request, CsvRejected([CsvProblem(None, "file", message)]))
    if upload.size > max_bytes():
        return _rejected(request, too_large(max_bytes()))
    try:
        result = csv_import(store=request.store, data=upload.read(), user=request.user)
    except CsvRejected as exc:
        return _rejected(request, exc)
    done = {
        "created": len(result.created),
        "updated": len(result.updated),
        "run": result.run.pk if result.run is not None else None,
    }
    if wants_json(request):
        return JsonResponse(done, status=201)
    request.session[SESSION_KEY] = done
    response = HttpResponseRedirect(reverse("connect:import"))
    response.status_code = 303  # POST-redirect-GET: a reload does not upload again
    return response


def _summary(exc: CsvRejected) -> str:
    rows = {p.row for p in exc.errors if p.row is not None and p.row > 1}
    if rows:
        return ngettext(
            "%(count)d line has problems; nothing was imported.",
            "%(count)d lines have problems; nothing was imported.",
            len(rows),
        ) % {"count": len(rows)}
    return " ".join(p.message for p in exc.errors[:1]) + " " + _("Nothing was imported.")


def _rejected(request: HttpRequest, exc: CsvRejected) -> HttpResponse:
    summary = _summary(exc)
    if wants_json(request):
        return JsonResponse(
            {"error": summary, "errors": [p.as_dict() for p in exc.errors]}, status=exc.status
        )
    return _page(request, rejected=exc, summary=summary, status=exc.status)


def _page(
    request: HttpRequest,
    *,
    done: dict[str, Any] | None = None,
    rejected: CsvRejected | None = None,
    summary: str = "",
    status: int = 200,
) -> HttpResponse:
    errors = rejected.errors if rejected is not None else []
    context = {
        "store": request.store,
        "done": done,
        "errors": errors[:PAGE_ERRORS],
        "error_count": len(errors),
        "errors_cut": len(errors) > PAGE_ERRORS,
        "summary": summary,
        "columns": COLUMNS,
        "required": REQUIRED,
        "max_rows": max_rows(),
        "max_megabytes": f"{max_bytes() / (1024 * 1024):g}",
        "date_examples": DATE_EXAMPLES,
    }
    return render(request, "connect/import.html", context, status=status)


@merchant_view
@require_GET
def shipment_import_template(request: HttpRequest) -> HttpResponse:
    """A CSV file to fill in: the header line and example rows (UTF-8 with a byte order mark,
    so spreadsheets open it as UTF-8)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer, lineterminator="\r\n").writerows(TEMPLATE_ROWS)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="resync-import-template.csv"'
    return response
