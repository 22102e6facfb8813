from django.contrib import admin

from chat.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Chat messages, newest first, searchable by room, user and text."""

    list_display = ["created_at", "room", "user", "text"]
    list_filter = ["room"]
    search_fields = ["room", "user__username", "text"]
    ordering = ["-id"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"
