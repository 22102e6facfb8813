"""WebSocket routes, served by project/asgi.py behind the origin check.

Only the chat needs to know who is connecting: it alone goes through ``AuthMiddlewareStack``.
The echo has no use for the session, and without the stack a connection costs no cookie parsing,
no session store or lazy user in its scope, and no session wrapper around every message it sends.
"""

from channels.auth import AuthMiddlewareStack
from django.urls import path

from chat import consumers

websocket_urlpatterns = [
    # The seed's address: ws://HOST/ws.
    path("ws", consumers.EchoConsumer.as_asgi(), name="ws-seed-echo"),
    path("ws/echo/", consumers.EchoConsumer.as_asgi(), name="ws-echo"),
    path(
        "ws/chat/<room:room_name>/",
        AuthMiddlewareStack(consumers.ChatConsumer.as_asgi()),
        name="ws-chat",
    ),
]
