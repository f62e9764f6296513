"""A local SMTP server for trying Backhaul: it accepts every email, prints a summary and keeps it as a .eml file.

    python scripts/mail_server.py [--port 1025] [--dir instance/mail]

`make mail` runs it; `make run` starts it beside the web server and the outbox
worker, so the demo's customer emails (with their link and label PDF) arrive
here. Open a kept .eml file in any mail program to see it as the customer would.
Nothing is relayed anywhere.
"""
from __future__ import annotations

import argparse
import email
import email.policy
import re
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

_LINK = re.compile(r"https?://\S+/r/\S+")


class KeepAndPrint:
    def __init__(self, folder: Path):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's handler hook
        self.count += 1
        content: bytes = envelope.content
        path = self.folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{self.count:04d}.eml"
        path.write_bytes(content)
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        link = _LINK.search(text)
        files = [part.get_filename() for part in message.iter_attachments()]
        print(f"[mail] to {', '.join(envelope.rcpt_tos)}: {message['Subject']}", flush=True)
        if link:
            print(f"[mail]   link: {link.group(0)}", flush=True)
        if files:
            print(f"[mail]   attached: {', '.join(str(f) for f in files)}", flush=True)
        print(f"[mail]   kept as {path}", flush=True)
        return "250 Message accepted"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", default="instance/mail", help="where the .eml files are kept")
    args = parser.parse_args()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(KeepAndPrint(folder), hostname=args.host, port=args.port)
    controller.start()
    print(f"[mail] local SMTP server on {args.host}:{args.port}; emails are printed here and kept in {folder}/", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
