"""connectors/senders.py: a sender per channel name, none for REST."""

import pytest

from connectors import senders


@pytest.fixture
def fresh_registry(monkeypatch):
    monkeypatch.setattr(senders, "_CACHE", {})
    monkeypatch.setattr(senders, "_FACTORIES", dict(senders._FACTORIES))


def test_rest_and_unknown_channels_have_no_sender(fresh_registry):
    for channel in ("rest", "socketio", "nope"):
        with pytest.raises(senders.NoSender):
            senders.get_sender(channel)
        assert not senders.can_push(channel)
    assert all(senders.can_push(c) for c in ("telegram", "whatsapp", "widget"))


def test_telegram_and_whatsapp_senders_come_from_the_settings(fresh_registry, monkeypatch):
    monkeypatch.setenv("TELEGRAM_TOKEN", "1:abc")
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "t")
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", "1")
    telegram = senders.get_sender("telegram")
    assert type(telegram).__name__ == "TelegramSender"
    assert senders.get_sender("telegram") is telegram  # built once
    assert type(senders.get_sender("whatsapp")).__name__ == "WhatsAppSender"


async def test_widget_messages_go_to_the_outbox(fresh_registry, tmp_path, monkeypatch):
    from bot.storage.db import reset_default_engine
    from bot.storage.migrate import upgrade
    from bot.storage.widget_models import WidgetSender

    url = f"sqlite:///{tmp_path / 'mdm.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    reset_default_engine()
    sender_id = "w" * 22
    await senders.get_sender("widget").send_text(
        sender_id, "Bonjour", buttons=[{"title": "1 ★", "payload": '/rate{"rating": 1}'}]
    )
    [message] = WidgetSender().fetch(sender_id)
    assert message["text"] == "Bonjour" and message["author"] == "staff"
    assert message["buttons"][0]["payload"] == '/rate{"rating": 1}'
    reset_default_engine()


async def test_fakes_can_be_registered(fresh_registry):
    class Fake:
        async def send_text(self, recipient_id, text, buttons=None):
            self.got = (recipient_id, text)

    fake = Fake()
    senders.register_sender("rest", lambda: fake)
    await senders.get_sender("rest").send_text("u", "x")
    assert fake.got == ("u", "x")
