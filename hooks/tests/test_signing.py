"""The signature scheme, and the README's verification snippet run against it."""

from __future__ import annotations

import re
import time
from pathlib import Path

from hooks.signing import sign, verify

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_snippet():
    section = README.read_text().split("## Webhooks to your systems", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102  (our own README)
    return namespace["resync_signature_ok"]


def test_the_header_is_hmac_sha256_of_t_dot_body():
    header = sign(secret="whsec_abc", body=b'{"a":1}', timestamp=1700000000)
    # Computed independently: HMAC-SHA256("whsec_abc", "1700000000.{\"a\":1}").
    import hashlib
    import hmac

    mac = hmac.new(b"whsec_abc", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={mac}"


def test_the_readme_snippet_accepts_ours_and_refuses_the_rest():
    ok = _readme_snippet()
    body, now = b'{"id":"x","type":"shipment.updated"}', int(time.time())
    header = sign(secret="whsec_abc", body=body, timestamp=now)
    assert ok("whsec_abc", body, header)
    assert not ok("whsec_other", body, header)
    assert not ok("whsec_abc", body + b" ", header)
    stale = sign(secret="whsec_abc", body=body, timestamp=now - 301)
    assert not ok("whsec_abc", body, stale)
    assert not ok("whsec_abc", body, "garbage")
    assert verify(secret="whsec_abc", body=body, header=header, now=now)
    assert not verify(secret="whsec_abc", body=body, header=stale, now=now)
