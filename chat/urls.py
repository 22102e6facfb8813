"""URLs of the chat app, included from ``project/urls.py`` at ``chat/``.

``room`` is :class:`chat.converters.RoomNameConverter`, registered by ``ChatConfig.ready()``.
"""

from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    # The default room, like Flask's ``defaults={"room_name": "lobby"}``.
    path("", views.RoomView.as_view(), {"room_name": "lobby"}, name="lobby"),
    path("<room:room_name>/", views.RoomView.as_view(), name="room"),
    # Anything else one level down is a room name that breaks the rule: a 404 that says it.
    path("<str:name>/", views.not_a_room, name="not-a-room"),
]
