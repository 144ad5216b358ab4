"""An SMTP sink that takes its time: each message waits `delay` seconds before it is stored, one
message at a time (the sleep holds aiosmtpd's event loop), like a slow relay.

    python -m aiosmtpd -n -l 127.0.0.1:PORT -c slow_mailbox.SlowMailbox MAILDIR DELAY
"""

import time

from aiosmtpd.handlers import Mailbox


class SlowMailbox(Mailbox):
    def __init__(self, mail_dir, delay):
        super().__init__(mail_dir)
        self.delay = float(delay)

    def handle_message(self, message):
        time.sleep(self.delay)
        super().handle_message(message)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 2:
            parser.error("SlowMailbox needs the maildir and a delay in seconds")
        return cls(args[0], args[1])
