"""``python -m bot.console [--host H] [--port P]``: run the staff console alone."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import List, Optional

from bot.settings import get_settings


def main(argv: Optional[List[str]] = None) -> int:
    """Run the console until interrupted."""
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m bot.console", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=settings.console_port)
    args = parser.parse_args(argv)
    logging.basicConfig(level=settings.log_level)
    if not settings.rasa_token:
        print("warning: RASA_TOKEN is empty: the console cannot reach Rasa's API", file=sys.stderr)
    from bot.console.app import create_app  # noqa: PLC0415

    # The composition root: the only place where the console reaches connectors/.
    from connectors.senders import NoSender, get_sender  # noqa: PLC0415

    def senders(channel: str) -> object:
        try:
            return get_sender(channel)
        except NoSender:
            return None

    app = create_app(senders=senders)
    print(f"staff console on http://{args.host}:{args.port}/", flush=True)
    app.run(host=args.host, port=args.port, access_log=False, motd=False, workers=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
