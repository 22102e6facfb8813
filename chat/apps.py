from django.apps import AppConfig
from django.urls import register_converter


class ChatConfig(AppConfig):
    """WebSocket echo, chat rooms and the RFC 6455 frame tool."""

    name = "chat"
    verbose_name = "Chat"

    def ready(self):
        from chat.converters import RoomNameConverter

        # Here, once, because both chat/urls.py and chat/routing.py use it and Django refuses
        # (deprecates) registering a converter name twice.
        register_converter(RoomNameConverter, "room")
