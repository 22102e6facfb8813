"""``runserver`` as daphne provides it (HTTP and WebSockets), on the project's server class."""

# server.daphne installs the project's reactor, which must happen before daphne's modules
# install the stock one.
from server.daphne import Server  # isort:skip

from daphne.management.commands.runserver import Command as DaphneRunserverCommand


class Command(DaphneRunserverCommand):
    """daphne's development server with the WebSocket fixes of :mod:`server.daphne`.

    daphne reads the size limit from ``DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE`` and
    ``DAPHNE_WEBSOCKET_MAX_FRAME_SIZE``, which settings derive from
    ``WEBSOCKET_MAX_MESSAGE_BYTES``.
    """

    server_cls = Server
