from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """Project-wide pieces: system checks and management commands."""

    name = "project"
    verbose_name = "Project"

    def ready(self):
        from project import checks  # noqa: F401 - registers the checks
