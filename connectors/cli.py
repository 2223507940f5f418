"""The channel commands of ``mdm`` (``mdm telegram setup|poll``).

``bot/cli.py`` registers them and imports this module only when one of them runs: the command
line is the project's composition root, the one place where ``bot`` reaches ``connectors``.

* ``mdm telegram setup --url https://assistant.example.org`` registers the webhook
  (``setWebhook`` with ``TELEGRAM_SECRET_TOKEN``) and the command menu.
* ``mdm telegram poll`` is for a machine without a public address: it removes the webhook,
  long-polls ``getUpdates`` and forwards every update, unchanged, to the running Rasa
  server's Telegram webhook (``{RASA_URL}/webhooks/telegram/webhook``, with the secret
  header). The updates therefore go through exactly the same code as in production
  (deduplication, fair use, commands, media); Rasa must run with the Telegram channel
  (``credentials.channels.yml``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Optional

import httpx

from bot.settings import get_settings
from connectors.telegram import SECRET_HEADER, TelegramSender

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/telegram/webhook"


def _sender() -> TelegramSender:
    settings = get_settings()
    if not settings.telegram_token:
        raise SystemExit("error: TELEGRAM_TOKEN is not set")
    return TelegramSender(settings.telegram_token, settings.telegram_api_base_url)


def _secret() -> str:
    secret = get_settings().telegram_secret_token
    if not secret:
        raise SystemExit("error: TELEGRAM_SECRET_TOKEN is not set")
    return secret


async def telegram_setup(public_url: str) -> int:
    """Register the webhook ``{public_url}/webhooks/telegram/webhook``.

    Args:
        public_url: The assistant's public HTTPS base address.

    Returns:
        Exit status (0 when Telegram accepted the webhook).
    """
    sender, secret = _sender(), _secret()
    url = public_url.rstrip("/") + WEBHOOK_PATH
    try:
        done = await sender.set_webhook(url, secret)
    finally:
        await sender.close()
    print(f"webhook {'set' if done else 'NOT set'}: {url}")
    return 0 if done else 1


async def telegram_poll(
    rasa_url: Optional[str] = None,
    *,
    once: bool = False,
    timeout: int = 30,
    max_rounds: Optional[int] = None,
) -> int:
    """Long-poll the Bot API and forward each update to Rasa's Telegram webhook.

    Args:
        rasa_url: Base URL of the Rasa server; ``RASA_URL`` when None.
        once: Do a single ``getUpdates`` round (tests, cron).
        timeout: Long-polling timeout in seconds.
        max_rounds: Stop after this many rounds (None: until interrupted).

    Returns:
        Exit status.
    """
    sender, secret = _sender(), _secret()
    target = (rasa_url or get_settings().rasa_url).rstrip("/") + WEBHOOK_PATH
    rounds = 1 if once else max_rounds
    offset: Optional[int] = None
    forwarded = 0
    try:
        await sender.delete_webhook()
        print(f"polling Telegram, forwarding updates to {target} (Ctrl-C stops)", flush=True)
        async with httpx.AsyncClient(timeout=120) as client:
            done = 0
            while rounds is None or done < rounds:
                done += 1
                try:
                    updates = await sender.get_updates(offset=offset, timeout=timeout)
                except Exception as error:  # noqa: BLE001 - network hiccup: wait and retry
                    logger.warning("getUpdates failed (%s); retrying", type(error).__name__)
                    await asyncio.sleep(min(5, timeout or 1))
                    continue
                for update in updates:
                    offset = int(update["update_id"]) + 1
                    reply = await client.post(target, json=update, headers={SECRET_HEADER: secret})
                    if reply.status_code != 200:
                        logger.warning("Rasa answered %s to an update", reply.status_code)
                    forwarded += 1
            if offset is not None:
                # Confirm the last batch so Telegram does not send it again next time.
                await sender.get_updates(offset=offset, timeout=0)
    finally:
        await sender.close()
    print(f"forwarded {forwarded} update(s)", flush=True)
    return 0


def run(coroutine: "asyncio.Future[int] | object") -> int:
    """Run a command coroutine, Ctrl-C ending it quietly."""
    try:
        return int(asyncio.run(coroutine))  # type: ignore[arg-type]
    except KeyboardInterrupt:
        return 0
