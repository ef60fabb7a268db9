"""The control API (`/_sandbox/...`): add events, inject faults, reset, read stats."""

from __future__ import annotations

from typing import Any

from .formats.base import BadBody, Call, Reply, Route, json_reply, route
from .formats.native import render_event
from .geo import parse_location
from .history import STATUSES, make_added_event
from .push import PushTarget
from .state import CARRIERS, Fault, FaultError


def _error(message: str, status: int = 400) -> Reply:
    return json_reply({"error": message}, status)


def _body(call: Call) -> dict[str, Any]:
    if not call.request.body.strip():
        return {}
    data = call.request.json()
    if not isinstance(data, dict):
        raise BadBody("expected a JSON object")
    return data


def add_event(call: Call) -> Reply:
    number = call.app.key(call.params["number"])
    try:
        body = _body(call)
    except BadBody as exc:
        return _error(f"invalid JSON: {exc}")
    status = body.get("status") or "in_transit"
    if status not in STATUSES:
        return _error(f"status must be one of {', '.join(STATUSES)}")
    location = body.get("location")
    if location:
        place = parse_location(str(location))
    else:
        snap = call.app.snapshot(number)
        if snap is not None and snap.latest is not None:
            place = snap.latest.place
        elif snap is not None:
            place = snap.origin
        else:
            place = parse_location("")
    event = make_added_event(
        status=status,
        place=place,
        now=call.app.now(),
        description=str(body.get("description") or ""),
    )
    event = call.app.state.add_event(number, event)
    pushes = call.app.pusher.notify(call.app, number)
    return json_reply({"tracking_number": number, **render_event(event), "pushes": pushes}, 201)


def configure_push(call: Call) -> Reply:
    """Where pushes go, and their keys: `{"url", "seventeentrack_key", "aftership_secret"}`."""
    try:
        body = _body(call)
    except BadBody as exc:
        return _error(f"invalid JSON: {exc}")
    target = PushTarget(
        url=str(body.get("url") or ""),
        seventeentrack_key=str(body.get("seventeentrack_key") or ""),
        aftership_secret=str(body.get("aftership_secret") or ""),
    )
    call.app.pusher.configure(target)
    return json_reply({"url": target.url})


def _fault(call: Call) -> Fault | None | Reply:
    try:
        return Fault.from_json(_body(call))
    except BadBody as exc:
        return _error(f"invalid JSON: {exc}")
    except FaultError as exc:
        return _error(str(exc))


def number_fault(call: Call) -> Reply:
    number = call.app.key(call.params["number"])
    fault = _fault(call)
    if isinstance(fault, Reply):
        return fault
    call.app.state.set_number_fault(number, fault)
    return json_reply({"number": number, "fault": fault.as_json() if fault else None})


def carrier_fault(call: Call) -> Reply:
    carrier = call.params["carrier"].lower()
    if carrier not in CARRIERS:
        return _error(f"carrier must be one of {', '.join(CARRIERS)}", 404)
    fault = _fault(call)
    if isinstance(fault, Reply):
        return fault
    call.app.state.set_carrier_fault(carrier, fault)
    return json_reply({"carrier": carrier, "fault": fault.as_json() if fault else None})


def forget_number(call: Call) -> Reply:
    number = call.app.key(call.params["number"])
    call.app.state.forget_number(number)
    return json_reply({"number": number, "deleted": True})


def show_number(call: Call) -> Reply:
    """Debugging aid: what the native endpoint would say, plus the number's fault."""
    from .formats.native import render

    number = call.app.key(call.params["number"])
    snap = call.app.snapshot(number)
    fault = call.app.state.faults()["numbers"].get(number)
    return json_reply(
        {
            "number": number,
            "known": snap is not None,
            "result": render(number, snap) if snap is not None else None,
            "fault": fault,
        }
    )


def reset(call: Call) -> Reply:
    call.app.state.reset()
    call.app.pusher.reset_counts()
    return json_reply({"ok": True})


def stats(call: Call) -> Reply:
    return json_reply({**call.app.state.stats(), "pushes": call.app.pusher.stats()})


def faults(call: Call) -> Reply:
    return json_reply(call.app.state.faults())


def health(call: Call) -> Reply:
    return json_reply({"ok": True, "epoch": call.app.epoch.isoformat()})


ROUTES: list[Route] = [
    route("GET", "/_sandbox/health", health, None, "control.health"),
    route("GET", "/_sandbox/stats", stats, None, "control.stats"),
    route("GET", "/_sandbox/faults", faults, None, "control.faults"),
    route("POST", "/_sandbox/reset", reset, None, "control.reset"),
    route("POST", "/_sandbox/push", configure_push, None, "control.push"),
    route("POST", "/_sandbox/numbers/{number}/events", add_event, None, "control.add_event"),
    route("POST", "/_sandbox/numbers/{number}/fault", number_fault, None, "control.number_fault"),
    route("GET", "/_sandbox/numbers/{number}", show_number, None, "control.show_number"),
    route("DELETE", "/_sandbox/numbers/{number}", forget_number, None, "control.forget"),
    route(
        "POST", "/_sandbox/carriers/{carrier}/fault", carrier_fault, None, "control.carrier_fault"
    ),
]
