"""Input checks of tickets (no database; the service applies the same checks)."""

from __future__ import annotations

import pytest

from bot.tickets import validation as v
from bot.tickets.errors import InvalidInput


def reason(func, *args):
    with pytest.raises(InvalidInput) as info:
        func(*args)
    return info.value.field, info.value.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "required"),
        ("", "required"),
        ("   \n\t  ", "required"),
        ("\x00\x01", "required"),
        ("🙂", "no_words"),
        ("😡 😡 😡 😡", "no_words"),
        ("!!! ??? ...", "no_words"),
        ("bonjour", "too_short"),
        ("bonjour madame", "too_short"),
        ("a" * 5001, "too_long"),
        ("mot " * 5000, "too_long"),
        (123, "required"),
    ],
)
def test_description_refused(text, expected):
    assert reason(v.validate_description, text) == ("description", expected)


def test_description_limit_is_reported():
    with pytest.raises(InvalidInput) as info:
        v.validate_description("x " * 10_000)
    assert info.value.limit == 5000
    assert "x x" not in str(info.value)  # the text itself never ends up in the message


@pytest.mark.parametrize(
    "text",
    [
        "mon passeport bloqué",
        "جواز السفر ديالي ما وصلش",
        "l passeport dyali ma wslch",
        "3 jours 2 heures",
        "😡 très très mécontent 😡",
    ],
)
def test_description_accepted(text):
    assert v.validate_description(text) == text


def test_description_is_trimmed_and_controls_removed():
    assert v.validate_description("  un deux\r\ntrois\x00 \x07 ") == "un deux\ntrois"


def test_description_exactly_5000_is_kept_whole():
    text = ("mot " * 1250)[:4999] + "z"
    assert len(text) == 5000
    assert v.validate_description(text) == text


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("user@example.com", "user@example.com"),
        ("  First.Last+tag@Sub.Example.MA ", "First.Last+tag@sub.example.ma"),
        ("a_b-c@ex-ample.co.uk", "a_b-c@ex-ample.co.uk"),
        ("x@xn--mxa.com", "x@xn--mxa.com"),
    ],
)
def test_email_accepted(given, stored):
    assert v.validate_email(given) == stored


@pytest.mark.parametrize(
    "email",
    [
        "plainaddress",
        "@example.com",
        "user@",
        "user@example",
        "user@.com",
        "user@example..com",
        "user@-example.com",
        "user.@example.com",
        ".user@example.com",
        "us..er@example.com",
        "user @example.com",
        "user@exa mple.com",
        "user@example.c",
        "user@@example.com",
        "<script>@example.com",
        "user@example.com<script>",
        "'; DROP TABLE tickets; --@x.com",
        "a@b.com, c@d.com",
        "user@example.com\nBcc: x@y.com",
        "ü@example.com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_email_refused(email):
    assert reason(v.validate_email, email) == ("contact", "invalid")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("+33612345678", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+212-661-234567", "+212661234567"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("+1 202 555 0123", "+12025550123"),
        ("+49 1512 3456789", "+4915123456789"),
    ],
)
def test_phone_accepted(given, stored):
    assert v.validate_phone(given) == stored


@pytest.mark.parametrize(
    "phone",
    [
        "0612345678",  # no country code
        "+0612345678",  # country code cannot start with 0
        "+3361234",  # 7 digits
        "+1234567890123456",  # 16 digits
        "+33 6 12 34 56 78 ext 9",
        "+33(6)12345678",
        "+33.6.12.34.56.78",
        "phone: +33612345678",
        "+",
        "++33612345678",
        "+33612345678; DROP TABLE tickets",
        "+٣٣٦١٢٣٤٥٦٧٨",  # Arabic-Indic digits are refused rather than guessed
    ],
)
def test_phone_refused(phone):
    assert reason(v.validate_phone, phone) == ("contact", "invalid")


def test_contact_depends_on_kind():
    assert v.validate_contact("chat", None) is None
    assert v.validate_contact("chat", "  ") is None
    assert v.validate_contact("email", "a@b.co") == "a@b.co"
    assert v.validate_contact("phone", "+212 661 234 567") == "+212661234567"
    assert reason(v.validate_contact, "chat", "a@b.co") == ("contact", "unexpected")
    assert reason(v.validate_contact, "email", None) == ("contact", "required")
    assert reason(v.validate_contact, "phone", "") == ("contact", "required")
    assert reason(v.validate_contact, "fax", "+33612345678") == ("contact_kind", "not_allowed")
    assert reason(v.validate_contact, None, None) == ("contact_kind", "required")


def test_choices():
    for category in ("consular", "civil_status", "justice", "social_tax_land", "other"):
        assert v.validate_category(category) == category
    assert reason(v.validate_category, "Consular") == ("category", "not_allowed")
    assert reason(v.validate_category, "consular' OR '1'='1") == ("category", "not_allowed")
    assert reason(v.validate_category, "") == ("category", "required")
    assert reason(v.validate_kind, "praise") == ("kind", "not_allowed")
    assert reason(v.validate_language, "de") == ("language", "not_allowed")
    assert v.validate_language("ary_Latn") == "ary_Latn"
    assert reason(v.validate_status, "done") == ("status", "not_allowed")


def test_channel_user_key_service():
    assert v.validate_channel("socketio") == "socketio"
    assert reason(v.validate_channel, "rest; drop") == ("channel", "invalid")
    assert reason(v.validate_channel, "") == ("channel", "required")
    assert reason(v.validate_user_key, "alice") == ("user_key", "invalid")
    assert reason(v.validate_user_key, None) == ("user_key", "required")
    assert v.validate_service("  ") is None
    assert v.validate_service(" Consulat de Lyon ") == "Consulat de Lyon"
    assert reason(v.validate_service, "x" * 201) == ("service", "too_long")


def test_count_words():
    assert v.count_words("un deux trois") == 3
    assert v.count_words("🙂 un 🙂 deux") == 2
    assert v.count_words("_ __ ___") == 0
    assert v.count_words("") == 0
