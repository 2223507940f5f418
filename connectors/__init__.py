"""Rasa input/output channels (Telegram, WhatsApp, web widget, REST) and their senders."""
