"""WebSocket routes, mounted under /ws/ by project/asgi.py."""

websocket_urlpatterns = []
