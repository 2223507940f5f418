import json

import pytest

from connectors.rest import MAX_MESSAGE_CHARS, BadRequest, parse_body


def test_valid_body():
    body = parse_body(
        json.dumps({"sender": "u1", "message": "salam", "metadata": {"language": "ary"}}).encode()
    )
    assert body == {"sender": "u1", "message": "salam", "metadata": {"language": "ary"}}


def test_numeric_sender_and_empty_message_are_accepted():
    assert parse_body(b'{"sender": 42, "message": ""}')["sender"] == "42"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"{not json", "JSON"),
        (b"\xff\xfe\x00", "UTF-8"),
        (b"[]", "object"),
        (b'{"sender": "u", "message": 12}', "'message'"),
        (b'{"sender": "u"}', "'message'"),
        (b'{"sender": "", "message": "x"}', "'sender'"),
        (b'{"sender": "u", "message": "x", "metadata": [1]}', "'metadata'"),
        (json.dumps({"sender": "u", "message": "x" * (MAX_MESSAGE_CHARS + 1)}).encode(), "longer"),
    ],
)
def test_bad_bodies_are_refused_with_a_reason(raw, why):
    with pytest.raises(BadRequest, match=why):
        parse_body(raw)
