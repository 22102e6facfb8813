from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """Project-wide pieces: templates, system checks, the start-up banner."""

    name = "project"
    verbose_name = "Project"
