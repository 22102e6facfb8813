"""WebSocket routes, served by project/asgi.py behind the origin check and the session's user."""

from django.urls import path

from chat import consumers

websocket_urlpatterns = [
    # The seed's address: ws://HOST/ws.
    path("ws", consumers.EchoConsumer.as_asgi(), name="ws-seed-echo"),
    path("ws/echo/", consumers.EchoConsumer.as_asgi(), name="ws-echo"),
    path("ws/chat/<room:room_name>/", consumers.ChatConsumer.as_asgi(), name="ws-chat"),
]
