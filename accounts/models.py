"""A user's profile (the seed's gender and hobbies) and the hobbies to choose from."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

# The hobbies the data migration creates, with ids 1 to 5. Listed here so that makemessages
# finds their names: a hobby's name is stored in English and translated when shown.
DEFAULT_HOBBY_NAMES = [
    gettext_noop("Reading"),
    gettext_noop("Music"),
    gettext_noop("Hiking"),
    gettext_noop("Cooking"),
    gettext_noop("Chess"),
]


class Hobby(models.Model):
    """A hobby a user can pick at registration; editable in the admin."""

    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("hobby")
        verbose_name_plural = _("hobbies")

    def __str__(self) -> str:
        # Names added in the admin have no translation; gettext then returns them unchanged.
        return gettext(self.name)


class Profile(models.Model):
    """What registration asks beyond Django's user: gender and hobbies."""

    class Gender(models.TextChoices):
        FEMALE = "1", _("Female")
        MALE = "2", _("Male")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
        verbose_name=_("user"),
    )
    gender = models.CharField(
        _("gender"), max_length=1, choices=Gender.choices, default=Gender.FEMALE
    )
    hobbies = models.ManyToManyField(
        Hobby, related_name="profiles", blank=True, verbose_name=_("hobbies")
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)
