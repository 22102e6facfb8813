"""The project's URLs plus two views that fail (tests only): a bug (500) and Redis gone (503)."""

from django.urls import path
from redis.exceptions import ConnectionError as RedisConnectionError

from project.urls import handler400, handler500, urlpatterns

__all__ = ["handler400", "handler500", "urlpatterns"]


def fails(request):
    raise RuntimeError("a bug")


def redis_fails(request):
    raise RedisConnectionError("Redis went away")


urlpatterns = [
    *urlpatterns,
    path("fails/", fails),
    path("redis-fails/", redis_fails),
]
