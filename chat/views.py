from typing import Any, NoReturn
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.translation import gettext as _
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

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = OpenRoomForm(request.GET if "room" in request.GET else None)
        if form.is_valid():
            return redirect("chat:room", room_name=form.cleaned_data["room"])
        return self.render_to_response(self.get_context_data(form=form, **kwargs))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rooms"] = selectors.rooms_with_messages()
        context["room_name_rule"] = room_name_rule()
        # Where the page sends someone whose session ended ("You are logged out"): back here.
        back_here = urlencode({REDIRECT_FIELD_NAME: self.request.path})
        context["login_url"] = f"{resolve_url(settings.LOGIN_URL)}?{back_here}"
        return context


def room_name_rule() -> str:
    return _("A room name is 1 to 64 letters (of any script), digits, hyphens or underscores.")


def not_a_room(request: HttpRequest, name: str) -> NoReturn:
    """``/chat/<name>/`` for a name the ``room`` converter refused: the site's 404 page, whose
    ``exception`` (Django's page_not_found puts the message there) spells out the rule."""
    raise Http404(room_name_rule())


class EchoView(TemplateView):
    """The seed's ``ws.html`` made useful: a WebSocket echo client."""

    template_name = "chat/echo.html"
    http_method_names = ["get", "head", "options"]
