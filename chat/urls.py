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
]
