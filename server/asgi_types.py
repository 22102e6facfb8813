"""The shapes of ASGI's callables (https://asgi.readthedocs.io/en/latest/specs/main.html) as the
project's servers and middleware see them.

Plain mappings rather than asgiref.typing's TypedDict per event: the code here reads scopes and
messages with ``.get`` and copies them, which those would need a cast for at every use. The
message types are django-stubs' (a ``Mapping`` for what is sent), so these callables pass to
Django's ``ASGIHandler`` as they are.
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias

Scope: TypeAlias = dict[str, Any]
Message: TypeAlias = Mapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
Application: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]
