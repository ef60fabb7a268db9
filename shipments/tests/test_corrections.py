"""Carrier correction (docs/contract.md §7): the right carrier (and number) is set, what the old
one said goes, and the shipment is pulled at once — even during its cooldown, which restarts."""

from __future__ import annotations

import pytest
from django.utils import timezone

from shipments import cooldowns, services
from shipments.carriers.numbers import carrier_suggestions, example_number
from shipments.models import ResyncJob, ResyncRequest, Shipment, TrackingEvent
from shipments.services.enqueue import FIRST_PULLS_FLUSH, RESYNC_JOB_EXECUTE

from .fixtures import make_shipment, make_user

pytestmark = pytest.mark.django_db(transaction=True)

JSON = {"HTTP_ACCEPT": "application/json"}


def _not_found(store, **fields) -> Shipment:
    """A shipment the carrier does not know: the wrong carrier was picked."""
    shipment = make_shipment(store, carrier="dhl", **fields)
    Shipment.objects.filter(pk=shipment.pk).update(
        last_synced_at=timezone.now(),
        last_sync_outcome="error",
        last_sync_error="The carrier does not know this tracking number (yet).",
    )
    TrackingEvent.objects.create(
        shipment=shipment, occurred_at=timezone.now(), status="info_received", fingerprint="x"
    )
    shipment.refresh_from_db()
    return shipment


def test_suggestions_are_the_carriers_whose_format_fits_best_first():
    assert carrier_suggestions(example_number("ups", 1)) == ["ups"]
    assert carrier_suggestions(example_number("fedex", 1))[0] == "fedex"
    assert carrier_suggestions("PARCEL-12") == []


def test_a_correction_pulls_at_once_even_while_cooling_and_restarts_the_cooldown(
    store, merchant, published
):
    shipment = _not_found(store)
    assert services.shipment_resync(shipment=shipment, source="merchant").accepted
    assert cooldowns.shipment_retry_after(store.pk, shipment.pk) > 0
    published.clear()
    fedex = example_number("fedex", 77)

    verdict = services.shipment_correct(
        shipment=shipment, carrier="fedex", tracking_number=f" {fedex[:4]} {fedex[4:]} ",
        user=merchant,
    )  # fmt: skip

    assert verdict.accepted
    shipment.refresh_from_db()
    assert (shipment.carrier, shipment.tracking_number) == ("fedex", fedex)
    assert shipment.status == "pending"
    assert shipment.last_sync_error == ""
    assert not TrackingEvent.objects.filter(shipment=shipment).exists()  # the old carrier's
    assert published == [(RESYNC_JOB_EXECUTE, (str(verdict.job.pk),), "interactive")]
    assert ResyncJob.objects.get(pk=verdict.job.pk).source == "correction"
    assert 290 < cooldowns.shipment_retry_after(store.pk, shipment.pk) <= 300
    audit = ResyncRequest.objects.filter(source="correction").get()
    assert (audit.user, audit.accepted, audit.forced) == (merchant, True, True)
    assert audit.detail.startswith("dhl ")
    assert audit.detail.endswith(f"→ fedex {fedex}")


@pytest.mark.parametrize(
    ("carrier", "number", "field"),
    [("dhl-express", "", "carrier"), ("", "", "carrier"), ("ups", "9" * 65, "tracking_number")],
)
def test_a_correction_that_cannot_be_is_refused_and_changes_nothing(
    store, published, carrier, number, field
):
    shipment = _not_found(store)
    with pytest.raises(services.BadCorrection) as refused:
        services.shipment_correct(shipment=shipment, carrier=carrier, tracking_number=number)
    assert refused.value.field == field
    shipment.refresh_from_db()
    assert shipment.carrier == "dhl"
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 1
    assert published == []


def test_the_same_carrier_and_number_is_no_correction(store, published):
    shipment = _not_found(store)
    with pytest.raises(services.BadCorrection, match="already"):
        services.shipment_correct(shipment=shipment, carrier="dhl")


def test_a_number_the_store_tracks_already_is_refused(store, published):
    taken = make_shipment(store, carrier="ups")
    shipment = _not_found(store)
    with pytest.raises(services.TrackingNumberTaken):
        services.shipment_correct(
            shipment=shipment, carrier="ups", tracking_number=taken.tracking_number
        )


def test_the_merchant_corrects_from_the_details_page_json(merchant_client, store, published):
    shipment = _not_found(store)
    detail = merchant_client.get(f"/app/shipments/{shipment.pk}/", **JSON).json()
    assert detail["carrier_suggestions"] == carrier_suggestions(shipment.tracking_number)
    assert detail["carrier_change_url"] == f"/app/shipments/{shipment.pk}/carrier/"

    response = merchant_client.post(
        f"/app/shipments/{shipment.pk}/carrier/", {"carrier": "usps"}, **JSON
    )
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"job", "state", "status_url", "retry_after"}
    assert body["state"] == "queued"
    assert merchant_client.get(body["status_url"], **JSON).status_code == 200
    assert Shipment.objects.get(pk=shipment.pk).carrier == "usps"

    bad = merchant_client.post(f"/app/shipments/{shipment.pk}/carrier/", {"carrier": "x"}, **JSON)
    assert bad.status_code == 400
    assert "carrier" in bad.json()["fields"]


def test_the_details_page_offers_the_fitting_carriers_first(merchant_client, store, published):
    shipment = _not_found(store, tracking_number=example_number("ups", 5))
    page = merchant_client.get(f"/app/shipments/{shipment.pk}/").content.decode()
    assert "Wrong carrier or tracking number?" in page
    fits = page.index("Fits this tracking number")
    assert page.index('value="ups"', fits) < page.index("Other carriers")
    response = merchant_client.post(f"/app/shipments/{shipment.pk}/carrier/", {"carrier": "ups"})
    assert response.status_code == 302
    assert "Carrier changed to UPS" in merchant_client.get(response.url).content.decode()


def test_another_stores_shipment_is_404(merchant_client, other_store, published):
    theirs = _not_found(other_store)
    response = merchant_client.post(f"/app/shipments/{theirs.pk}/carrier/", {"carrier": "ups"})
    assert response.status_code == 404
    assert Shipment.objects.get(pk=theirs.pk).carrier == "dhl"


def test_bulk_one_carrier_for_the_selected_shipments(
    merchant_client, store, other_store, published
):
    mine = [make_shipment(store, carrier=None, tracking_number=f"NC-{i}") for i in range(3)]
    theirs = make_shipment(other_store, carrier=None, tracking_number="NC-X")
    ids = [s.pk for s in mine] + [theirs.pk]
    response = merchant_client.post(
        "/app/shipments/carrier/", {"carrier": "dhl", "ids": ids}, **JSON
    )
    assert response.json() == {"changed": 3}
    assert set(Shipment.objects.filter(pk__in=ids).values_list("carrier", flat=True)) == {
        "dhl",
        None,
    }
    assert Shipment.objects.get(pk=theirs.pk).carrier is None  # never another store's
    assert published == [(FIRST_PULLS_FLUSH, ("dhl",), "bulk")]
    assert services.first_pulls_take(carrier="dhl") == [("dhl", sorted(s.pk for s in mine))]
    assert ResyncRequest.objects.filter(source="correction").count() == 3
    # The Shipment tab offers it: a checkbox per row and the carrier list.
    page = merchant_client.get("/app/shipments/").content.decode()
    assert 'form="bulk-carrier-form"' in page
    assert "Set carrier and pull" in page


def test_ops_set_a_carrier_from_django_admin(client, store, published):
    ops = make_user("ops-corrector", is_staff=True, is_superuser=True)
    client.force_login(ops)
    shipment = make_shipment(store, carrier=None, tracking_number="NC-ADMIN")
    response = client.post(
        "/admin/shipments/shipment/",
        {"action": "set_carrier_fedex", "_selected_action": [shipment.pk]},
    )
    assert response.status_code == 302
    assert Shipment.objects.get(pk=shipment.pk).carrier == "fedex"
