"""Users with their profile inline, and the hobbies users choose from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from accounts import selectors
from accounts.models import Hobby, Profile

if TYPE_CHECKING:
    from typing import TypedDict

    from django.contrib.auth.models import User
    from django.db.models import ManyToManyField, QuerySet
    from django.http import HttpRequest
    from django_stubs_ext import WithAnnotations

    class _HobbyCounts(TypedDict):
        """The annotation HobbyAdmin.get_queryset adds to each hobby."""

        user_count: int


class UserAdminChangeForm(UserChangeForm):
    """Django's user change form, refusing an e-mail address another account has (ignoring
    case), as registration and the profile page do."""

    def clean_email(self) -> str:
        email = self.cleaned_data.get("email", "")
        if selectors.email_taken(email, except_user_pk=self.instance.pk):
            raise ValidationError(
                _("This e-mail address is already used by another account."),
                code="duplicate_email",
            )
        return email


class ProfileInline(admin.StackedInline):
    """The profile's gender and hobbies on the user's page."""

    model = Profile
    fields = ["gender", "hobbies"]
    can_delete = False
    min_num = 0
    max_num = 1
    extra = 0

    def formfield_for_manytomany(
        self, db_field: ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField | None:
        if db_field.name == "hobbies":
            kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class UserAdmin(DjangoUserAdmin):
    """Django's user admin with the profile inline."""

    form = UserAdminChangeForm
    inlines = [ProfileInline]
    # Registration asks for no first or last name: without those always-empty columns the
    # changelist fits 1280 px beside its filters (the last column was clipped).
    list_display = ["username", "email", "gender", "is_staff", "date_joined"]
    list_select_related = ["profile"]

    @admin.display(description=_("gender"), ordering="profile__gender")
    def gender(self, user: User) -> str:
        profile = getattr(user, "profile", None)
        return profile.get_gender_display() if profile else "-"


@admin.register(Hobby)
class HobbyAdmin(admin.ModelAdmin):
    """The hobbies offered at registration; ids 1 to 5 come from a data migration."""

    list_display = ["id", "name", "translated_name", "user_count"]
    search_fields = ["name"]
    ordering = ["id"]

    @admin.display(description=_("shown as"))
    def translated_name(self, hobby: Hobby) -> str:
        return str(hobby)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Hobby]:
        return super().get_queryset(request).annotate(user_count=Count("profiles"))

    @admin.display(description=_("users"), ordering="user_count")
    def user_count(self, hobby: WithAnnotations[Hobby, _HobbyCounts]) -> int:
        return hobby.user_count
