"""ASGI entry point: HTTP goes to Django, WebSockets through Channels.

Django is set up (``get_asgi_application``) before anything that imports models, such as the
consumers behind ``chat.routing``.
"""

import gc
import logging
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

from server.handlers import get_asgi_application

# Each HTTP request's sync work runs in one hop on a fixed thread pool (see server/handlers.py).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from core.health import describe_backends  # noqa: E402
from core.websocket_origin import FullOriginValidator  # noqa: E402
from server.ws_guard import ServiceGuardMiddleware  # noqa: E402

if settings.SERVE_STATIC:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The chat's routes carry their own AuthMiddlewareStack (chat/routing.py). The origin
        # check compares scheme, host and port (core/websocket_origin.py).
        "websocket": ServiceGuardMiddleware(FullOriginValidator(URLRouter(websocket_urlpatterns))),
    }
)

logging.getLogger("project").info("serving with %s", describe_backends())

# Everything loaded so far (Django, the apps, the URL patterns) lives as long as the process.
# Moved out of the collector's sight, it no longer makes each full collection walk it, a pause
# of the event loop and of every WebSocket on it (docs/websockets.md).
gc.freeze()
