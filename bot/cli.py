"""The ``mdm`` command: the project's own tools (language id, knowledge base, benchmarks, serving).

Subcommands import what they need when they run, so ``mdm --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable, List, Optional


def _cmd_lang(args: argparse.Namespace) -> int:
    from bot.language.identify import LanguageIdentifier  # noqa: PLC0415

    identifier = LanguageIdentifier.default()
    for line in sys.stdin:
        text = line.rstrip("\n")
        guess = identifier.identify(text)
        if args.verbose:
            print(f"{guess.code}\t{guess.confidence:.2f}\t{'ambiguous' if guess.ambiguous else ''}")
        else:
            print(guess.code)
        sys.stdout.flush()
    return 0


def _cmd_kb_validate(args: argparse.Namespace) -> int:
    from bot.knowledge.store import REVIEW_AFTER_DAYS, KnowledgeBase  # noqa: PLC0415
    from bot.settings import get_settings  # noqa: PLC0415

    folder = Path(args.folder) if args.folder else get_settings().knowledge_dir
    kb = KnowledgeBase.load(folder)
    for error in kb.errors:
        print(f"error: {error}", file=sys.stderr)
    for entry in kb.stale():
        print(
            f"warning: {entry.id}: last reviewed {entry.last_reviewed} "
            f"(more than {REVIEW_AFTER_DAYS} days ago)",
            file=sys.stderr,
        )
    status = "FAILED" if kb.errors else "ok"
    print(f"{status}: {len(kb.entries)} valid entries, {len(kb.errors)} error(s) in {folder}")
    return 1 if kb.errors else 0


def _cmd_kb_export_nlu(args: argparse.Namespace) -> int:
    from bot.knowledge.export import export_nlu  # noqa: PLC0415
    from bot.knowledge.store import KnowledgeBase  # noqa: PLC0415
    from bot.settings import ROOT, get_settings  # noqa: PLC0415

    kb = KnowledgeBase.load(get_settings().knowledge_dir)
    if kb.errors:
        print(f"error: {len(kb.errors)} invalid entries: run `mdm kb validate`", file=sys.stderr)
        return 1
    nlu_dir = Path(args.nlu_dir) if args.nlu_dir else ROOT / "data" / "nlu"
    changed = export_nlu(kb, nlu_dir, check=args.check)
    for path in changed:
        print(f"{'out of date' if args.check else 'wrote'}: {path}")
    if args.check and changed:
        print("run `mdm kb export-nlu` (or `make train`) and commit the result", file=sys.stderr)
        return 1
    return 0


def _cmd_kb_search(args: argparse.Namespace) -> int:
    from bot.knowledge.search import default_search  # noqa: PLC0415

    hits = default_search().search(args.text, k=args.k)
    if args.json:
        print(
            json.dumps(
                [{"id": h.entry.id, "score": round(h.score, 3), "lang": h.lang} for h in hits]
            )
        )
    elif not hits:
        print("no match")
    for hit in hits if not args.json else []:
        print(f"{hit.score:7.2f}  {hit.entry.id:32s} {hit.entry.text(hit.lang).title}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    import importlib  # noqa: PLC0415

    module = importlib.import_module(f"bot.bench.{args.which}")
    argv: List[str] = ["--json"] if args.json else []
    argv += args.rest
    return int(module.main(argv) or 0)


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.storage.migrate import upgrade  # noqa: PLC0415

    upgrade(args.url)
    print("database is at the latest revision")
    return 0


def _cmd_telegram(args: argparse.Namespace) -> int:
    # The CLI is the composition root: the only place where bot/ reaches connectors/, and
    # only inside the command, so `bot` itself never depends on the channels.
    from connectors import cli as channels  # noqa: PLC0415

    if args.telegram == "setup":
        return channels.run(channels.telegram_setup(args.url))
    return channels.run(channels.telegram_poll(args.rasa_url, once=args.once, timeout=args.timeout))


def _cmd_staff_create(args: argparse.Namespace) -> int:
    import getpass  # noqa: PLC0415
    import os  # noqa: PLC0415

    from bot.console.auth import AccountError, StaffStore  # noqa: PLC0415
    from bot.storage.db import get_session_factory  # noqa: PLC0415

    # The password never goes on the command line (shell history, ps): prompt, or read it
    # from MDM_STAFF_PASSWORD for scripts.
    password = os.environ.get("MDM_STAFF_PASSWORD") or getpass.getpass("Password: ")
    try:
        staff_id = StaffStore(get_session_factory()).create(
            args.username,
            password,
            role=args.role,
            display_name=args.name,
            languages=(args.languages or "").split(","),
            topics=(args.topics or "").split(","),
        )
    except AccountError as error:
        reasons = {
            "username": "user name must be 2-64 characters of a-z, 0-9, '.', '_' or '-'",
            "password": "password must have at least 12 characters",
            "role": "role must be agent or supervisor",
            "language": "languages must be among fr, ar, ary, ary_Latn, en",
            "exists": "this user name is taken",
        }
        print(f"error: {reasons.get(error.code, error.code)}", file=sys.stderr)
        return 1
    print(f"staff account {args.username} created (id {staff_id}, {args.role})")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from bot.serve import serve  # noqa: PLC0415

    return serve(shell=args.shell)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mdm``."""
    parser = argparse.ArgumentParser(prog="mdm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    lang = sub.add_parser("lang", help="identify the language variety of each stdin line")
    lang.add_argument("-v", "--verbose", action="store_true", help="also print confidence")
    lang.set_defaults(func=_cmd_lang)

    kb = sub.add_parser("kb", help="knowledge base tools").add_subparsers(dest="kb", required=True)
    validate = kb.add_parser("validate", help="check every entry; exit 1 on errors")
    validate.add_argument("--folder", help="knowledge folder (default: MDM_KNOWLEDGE_DIR)")
    validate.set_defaults(func=_cmd_kb_validate)
    export = kb.add_parser(
        "export-nlu", help="write the entries' questions to data/nlu/<variety>/kb_questions.yml"
    )
    export.add_argument("--check", action="store_true", help="only check; exit 1 if stale")
    export.add_argument("--nlu-dir", help="NLU folder (default: data/nlu)")
    export.set_defaults(func=_cmd_kb_export_nlu)
    search = kb.add_parser("search", help="best entries for a free-text question")
    search.add_argument("text")
    search.add_argument("-k", type=int, default=3)
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=_cmd_kb_search)

    bench = sub.add_parser("bench", help="benchmarks (see docs/benchmarks.md)")
    bench.add_argument("which", choices=["nlu", "langid", "kb", "darijabanking", "load", "tickets"])
    bench.add_argument("--json", action="store_true")
    bench.add_argument("rest", nargs=argparse.REMAINDER, help="options of the benchmark")
    bench.set_defaults(func=_cmd_bench)

    db = sub.add_parser("db", help="database tools").add_subparsers(dest="db", required=True)
    up = db.add_parser("upgrade", help="create or migrate the database to the latest revision")
    up.add_argument("--url", help="database URL (default: DATABASE_URL)")
    up.set_defaults(func=_cmd_db_upgrade)

    staff = sub.add_parser("staff", help="staff console accounts").add_subparsers(
        dest="staff", required=True
    )
    create = staff.add_parser(
        "create", help="create a console account (password prompted, or MDM_STAFF_PASSWORD)"
    )
    create.add_argument("username")
    create.add_argument("--role", choices=["agent", "supervisor"], default="agent")
    create.add_argument("--name", help="name shown to colleagues (default: the user name)")
    create.add_argument("--languages", help="varieties handled, e.g. fr,ary,ary_Latn")
    create.add_argument("--topics", help="intents or knowledge entries handled (default: any)")
    create.set_defaults(func=_cmd_staff_create)

    serve = sub.add_parser("serve", help="start the action server and Rasa (Ctrl-C stops all)")
    serve.add_argument("--shell", action="store_true", help="talk in the terminal instead")
    serve.set_defaults(func=_cmd_serve)
    telegram = sub.add_parser("telegram", help="Telegram channel tools").add_subparsers(
        dest="telegram", required=True
    )
    setup = telegram.add_parser("setup", help="register the webhook (TELEGRAM_* settings)")
    setup.add_argument("--url", required=True, help="public base URL of the assistant (https)")
    setup.set_defaults(func=_cmd_telegram)
    poll = telegram.add_parser(
        "poll", help="long-poll Telegram and forward updates to Rasa's Telegram webhook"
    )
    poll.add_argument("--rasa-url", help="Rasa server (default: RASA_URL)")
    poll.add_argument("--once", action="store_true", help="one getUpdates round, then stop")
    poll.add_argument("--timeout", type=int, default=30, help="long-polling timeout (s)")
    poll.set_defaults(func=_cmd_telegram)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``mdm`` console script."""
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
