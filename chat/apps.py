from django.apps import AppConfig
from django.urls import register_converter


class ChatConfig(AppConfig):
    """WebSocket echo, chat rooms and the RFC 6455 frame tool."""

    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from chat import signals
        from chat.converters import RoomNameConverter
        from chat.models import Message

        # post_delete, not a ModelAdmin override: the bulk action's queryset.delete() sends it
        # for each message too (a receiver turns Django's fast delete off).
        post_delete.connect(signals.message_deleted, sender=Message, dispatch_uid="chat-deleted")

        # Here, once, because both chat/urls.py and chat/routing.py use it and Django refuses
        # (deprecates) registering a converter name twice.
        register_converter(RoomNameConverter, "room")
