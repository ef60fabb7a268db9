"""A stranger's JSON body is bounded in depth before it is parsed (resync_site/jsonbody.py)."""

from __future__ import annotations

import pytest

from resync_site.jsonbody import MAX_DEPTH, BadJSON, nesting_depth, parse_json


def test_ordinary_documents_parse():
    assert parse_json(b'{"window": "7d", "ids": [1, 2, {"a": [3]}]}')["window"] == "7d"
    assert parse_json('{"name": "[[[[ not brackets ]]]] \\" {{"}')["name"].startswith("[[[[")


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # RecursionError in the standard parser
        b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1),
        b"[" * 50_000,  # never closed
        b"\xff\xfe{}",
        b"{'single': 'quotes'}",
        b"",
    ],
)
def test_bad_or_too_deep_bodies_are_one_error(body):
    with pytest.raises(BadJSON):
        parse_json(body)


def test_depth_ignores_brackets_inside_strings():
    assert nesting_depth(b'{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert nesting_depth(b'["\\"[[[["]') == 1
    assert parse_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
