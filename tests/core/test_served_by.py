"""X-Served-By names the serving process only when SERVED_BY_HEADER turns it on."""

import os
import socket

import pytest

from core.middleware import ServedByMiddleware

pytestmark = pytest.mark.django_db

MIDDLEWARE_PATH = "core.middleware.ServedByMiddleware"


def test_header_is_off_by_default(client, settings):
    response = client.get("/healthz")

    assert settings.SERVED_BY_HEADER is False
    assert MIDDLEWARE_PATH not in settings.MIDDLEWARE
    assert ServedByMiddleware.header not in response


def test_middleware_names_the_host_and_process(client, settings):
    settings.MIDDLEWARE = [MIDDLEWARE_PATH, *settings.MIDDLEWARE]

    response = client.get("/healthz")

    assert response[ServedByMiddleware.header] == f"{socket.gethostname()}:{os.getpid()}"
