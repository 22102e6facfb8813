"""Switching a test to another ``SESSION_BACKEND``, as project/settings.py would configure it."""

from core.session_backends.registry import SESSION_BACKENDS


def use_session_backend(settings, name):
    """Set ``SESSION_BACKEND`` to ``name`` on pytest-django's ``settings``, with the engine and
    session cache of its entry in the table. (A memcached cache the test provides itself.)"""
    backend = SESSION_BACKENDS[name]
    settings.SESSION_BACKEND = name
    settings.SESSION_ENGINE = backend.engine
    settings.SESSION_CACHE_ALIAS = backend.cache_alias or "default"
    return backend
