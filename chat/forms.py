from django import forms
from django.utils.translation import gettext_lazy as _

from chat.converters import ROOM_NAME_MAX_LENGTH
from chat.models import validate_room_name


class OpenRoomForm(forms.Form):
    """The name of a room to open."""

    room = forms.CharField(
        label=_("Room"),
        max_length=ROOM_NAME_MAX_LENGTH,
        validators=[validate_room_name],
        widget=forms.TextInput(attrs={"placeholder": "lobby", "autocomplete": "off"}),
    )
