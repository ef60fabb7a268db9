"""The sandbox's pushes (no server): what it would POST for a followed number, in each
provider's format, and signed so that the app's own checks accept it."""

from __future__ import annotations

import datetime as dt

from carrier_sandbox.app import Sandbox
from carrier_sandbox.push import PushTarget
from shipments.carriers import push as carrier_push
from shipments.carriers.numbers import example_number

EPOCH = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


def test_only_followed_numbers_are_pushed_and_off_without_a_url():
    app = Sandbox(epoch=EPOCH)
    number = example_number("17track", 31)
    assert app.pusher.bodies(app, number) == []
    app.state.register_17track(number, 3011)
    assert [p for p, _ in app.pusher.bodies(app, number)] == ["17track"]
    assert app.pusher.notify(app, number) == 0  # no URL configured: nothing sent


def test_pushed_bodies_parse_as_the_providers_and_are_signed_for_the_app():
    app = Sandbox(epoch=EPOCH, push=PushTarget("http://127.0.0.1:9", "k17", "whsec"))
    number = example_number("aftership", 32)
    app.state.register_17track(number, 190096)
    app.state.note_aftership_read(number, "singapore-post")
    bodies = dict(app.pusher.bodies(app, number))
    assert set(bodies) == {"17track", "aftership"}
    for provider, body in bodies.items():
        parsed = carrier_push.parse(provider, body)
        assert parsed.kind == carrier_push.UPDATED
        assert parsed.tracking_number == number
        assert parsed.result is not None
        assert parsed.result.events
        raw = b'{"event": "x"}'
        secret = app.pusher.target.secret(provider)
        signature = carrier_push.sign(provider, raw, secret)
        assert carrier_push.signature_matches(provider, raw, signature, secret)
    assert bodies["aftership"]["event"] == "tracking_update"
    assert bodies["17track"]["event"] == "TRACKING_UPDATED"
