from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, their profiles, login and registration."""

    name = "accounts"
    verbose_name = "Accounts"
