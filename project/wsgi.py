"""WSGI entry point, for HTTP-only deployments (WebSockets need ASGI: see project/asgi.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
application = get_wsgi_application()
