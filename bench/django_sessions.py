"""Logged-in sessions for the benchmark, made through Django's own APIs.

``python -m bench.django_sessions N`` (run by the harness with the project's bench environment)
makes sure N users ``bench-user-0000``... exist and prints, as one JSON line, the session cookie
name and N session keys, each holding exactly what ``django.contrib.auth.login`` stores. The
measured figures are about serving pages to logged-in users, not about logging in: going through
the login form would spend a password hash (about a second of CPU) per client before each run.
"""

import json
import os
import sys
from importlib import import_module


def main(count):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.utils.module_loading import import_string

    user_model = get_user_model()
    store = import_module(settings.SESSION_ENGINE).SessionStore
    # The backend a real login would record: the first that can load a user (the throttling
    # backend before it only refuses locked-out logins).
    backend = next(
        path
        for path in settings.AUTHENTICATION_BACKENDS
        if hasattr(import_string(path), "get_user")
    )
    keys = []
    for index in range(count):
        username = f"bench-user-{index:04d}"
        user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
        if user is None:
            extra = {}
            if "email" in user_model.REQUIRED_FIELDS:
                extra["email"] = f"{username}@bench.invalid"
            # No usable password: nobody can log in as a bench user through the form.
            user = user_model._default_manager.create_user(username, password=None, **extra)
        session = store()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        keys.append(session.session_key)
    print(json.dumps({"cookie_name": settings.SESSION_COOKIE_NAME, "session_keys": keys}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
