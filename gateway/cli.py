"""The `onethread` command: serve the gateway, and manage the knowledge base."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from gateway.memory import use_one_malloc_arena
from gateway.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onethread", description="One conversation per customer, on every channel."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    kb = commands.add_parser("kb", help="knowledge base: import, export, ask, eval")
    kb_commands = kb.add_subparsers(dest="kb_command", required=True)
    kb_import = kb_commands.add_parser("import", help="import a knowledge folder as a new version")
    kb_import.add_argument("dir", type=Path)
    kb_export = kb_commands.add_parser("export", help="write the current knowledge to a folder")
    kb_export.add_argument("dir", type=Path)
    kb_ask = kb_commands.add_parser("ask", help="show the decision for one message")
    kb_ask.add_argument("text")
    kb_ask.add_argument("--channel", default="webchat")
    kb_ask.add_argument("--json", action="store_true", help="print the decision as JSON")
    kb_eval = kb_commands.add_parser("eval", help="score a labelled query file (JSON lines)")
    kb_eval.add_argument("file", type=Path)
    report = commands.add_parser("report", help="operator figures: deflection rate and the rest")
    report.add_argument("--since", default="7d", help="ISO-8601 or a duration back (7d, 24h)")
    report.add_argument("--until", default=None, help="ISO-8601 or a duration back; default now")
    report.add_argument("--channel", default=None, help="only conversations begun on it")
    report.add_argument("--window", default=None, help="re-contact window, e.g. 24h")
    shape = report.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the summary as JSON")
    shape.add_argument("--csv", action="store_true", help="one CSV row per slice")
    telegram = commands.add_parser("telegram", help="Telegram bot set-up")
    telegram_commands = telegram.add_subparsers(dest="telegram_command", required=True)
    telegram_commands.add_parser(
        "set-webhook", help="register ONETHREAD_PUBLIC_URL/webhooks/telegram with our secret"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    # Before numpy loads OpenBLAS (nothing above imports it): each OpenBLAS thread gets its own
    # buffer (numpy and scipy ship one OpenBLAS each), ~20 MB resident on two cores and more on
    # bigger hosts, and the engine runs BLAS single-threaded anyway (knowledge/engine.py).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    use_one_malloc_arena()
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The twilio SDK logs every request's headers at INFO: noise, and costly per reply.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    # rasa-sdk announces each registered action at INFO: a screenful at every start.
    logging.getLogger("rasa_sdk").setLevel(logging.WARNING)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"onethread: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(settings, args.host, args.port)
    if args.command == "telegram":
        return asyncio.run(_set_telegram_webhook(settings))
    if args.command == "report":
        from gateway.analytics.report import report

        output = "json" if args.json else "csv" if args.csv else "table"
        return asyncio.run(
            report(settings, args.since, args.until, args.channel, args.window, output)
        )
    from gateway import kb_commands

    handlers: dict[str, Callable[[], Awaitable[int]]] = {
        "import": lambda: kb_commands.import_dir(settings, args.dir),
        "export": lambda: kb_commands.export_dir(settings, args.dir),
        "ask": lambda: kb_commands.ask(settings, args.text, args.channel, args.json),
        "eval": lambda: kb_commands.evaluate_file(settings, args.file),
    }
    return asyncio.run(handlers[args.kb_command]())


def _serve(settings: Settings, host: str, port: int) -> int:
    # The store thread and the event loop trade the GIL per message; the default 5 ms switch
    # interval would make the loop wait that long for its turn.
    sys.setswitchinterval(0.0005)
    from aiohttp import web

    from gateway.app import create_app
    from knowledge.content import ContentErrors

    try:
        web.run_app(
            create_app(settings),
            host=host,
            port=port,
            print=lambda _: logging.getLogger("onethread").info(
                "listening on http://%s:%s", host, port
            ),
            shutdown_timeout=30,
        )
    except ContentErrors as exc:
        for error in exc:
            print(f"onethread: knowledge base error: {error}", file=sys.stderr)
        return 2
    except SettingsError as exc:
        print(f"onethread: configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


async def _set_telegram_webhook(settings: Settings) -> int:
    from adapters.telegram.setup import set_webhook

    try:
        print(await set_webhook(settings))
    except ValueError as exc:
        print(f"onethread: {exc}", file=sys.stderr)
        return 2
    return 0


def print_json(data: object) -> None:
    """Pretty JSON on stdout."""
    print(json.dumps(data, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
