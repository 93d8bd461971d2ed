"""An SMTP server for the tests (aiosmtpd, from PyPI): every message received is saved in the
directory given as NNNN.eml, with NNNN.json holding its envelope, decoded subject and text
part, and its attachments; a calendar attachment is read with the icalendar package (PyPI), so
the test sees what a calendar application would. Prints "ready" once it listens."""

import asyncio
import email
import email.policy
import json
import pathlib
import sys
import time

from aiosmtpd.controller import Controller
import icalendar


def attachments(message):
    out = []
    for part in message.iter_attachments():
        content = part.get_content()
        entry = {
            "filename": part.get_filename(),
            "content_type": part.get_content_type(),
            "method": part.get_param("method"),
        }
        if part.get_content_type() == "text/calendar":
            calendar = icalendar.Calendar.from_ical(content)
            events = [
                {
                    "uid": str(e.get("uid")),
                    "sequence": int(e.get("sequence")),
                    "status": str(e.get("status")),
                    "summary": str(e.get("summary")),
                    "start": e.decoded("dtstart").isoformat(),
                    "attendee": str(e.get("attendee")),
                }
                for e in calendar.walk("VEVENT")
            ]
            entry["calendar"] = {"method": str(calendar.get("method")), "events": events}
        out.append(entry)
    return out


class Save:
    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self.count = len(list(self.directory.glob("*.eml")))

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        stem = self.directory / f"{self.count:04}"
        stem.with_suffix(".eml").write_bytes(envelope.content)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        stem.with_suffix(".json").write_text(
            json.dumps(
                {
                    "from": envelope.mail_from,
                    "to": envelope.rcpt_tos,
                    "header_to": str(message["To"]),
                    "subject": str(message["Subject"]),
                    "message_id": str(message["Message-ID"]),
                    "content_type": message.get_content_type(),
                    "text": text.get_content() if text else None,
                    "html": html.get_content() if html else None,
                    "attachments": attachments(message),
                }
            )
        )
        return "250 OK"


port, directory = int(sys.argv[1]), sys.argv[2]
controller = Controller(Save(directory), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
