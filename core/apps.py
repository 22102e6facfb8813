from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Project-wide pieces: middleware, error pages, health checks, the SQL helper, session
    stores and inspection, system checks and management commands."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core import checks  # noqa: F401 - registers the checks
        from core.session_ends import connect_receivers

        connect_receivers()
