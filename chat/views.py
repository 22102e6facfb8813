from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.views.generic import TemplateView

from chat import selectors
from chat.forms import OpenRoomForm


class RoomView(LoginRequiredMixin, TemplateView):
    """A chat room's page, with the rooms that have messages and a form to open another.

    The form submits ``?room=NAME`` to the page itself: a valid name redirects to its room, an
    invalid one shows the page again with the form's error.
    """

    template_name = "chat/room.html"
    http_method_names = ["get", "head", "options"]

    def get(self, request, *args, **kwargs):
        form = OpenRoomForm(request.GET if "room" in request.GET else None)
        if form.is_valid():
            return redirect("chat:room", room_name=form.cleaned_data["room"])
        return self.render_to_response(self.get_context_data(form=form, **kwargs))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rooms"] = selectors.rooms_with_messages()
        return context


class EchoView(TemplateView):
    """The seed's ``ws.html`` made useful: a WebSocket echo client."""

    template_name = "chat/echo.html"
    http_method_names = ["get", "head", "options"]
