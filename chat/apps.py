from django.apps import AppConfig


class ChatConfig(AppConfig):
    """WebSocket echo, chat rooms and the RFC 6455 frame tool."""

    name = "chat"
    verbose_name = "Chat"
