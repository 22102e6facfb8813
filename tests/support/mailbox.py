"""A real SMTP server for the tests (aiosmtpd), in a thread of the test process: a live server
started with ``EMAIL_URL=smtp://127.0.0.1:PORT`` sends its mail there."""

import email
import email.policy

from aiosmtpd.controller import Controller

from tests.support.servers import free_port
from tests.support.waiting import wait_until


class Mailbox:
    """Collects every message the SMTP server receives, parsed."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls the hook by this name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted for delivery"

    def wait_for(self, count=1, timeout=15):
        """The ``count``-th message received (``(recipients, message)``), waiting for it."""
        wait_until(lambda: len(self.messages) >= count, timeout=timeout, message="a mail")
        return self.messages[count - 1]


class SmtpServer:
    """aiosmtpd on a free loopback port; ``url`` is the EMAIL_URL that reaches it."""

    def __init__(self):
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()
