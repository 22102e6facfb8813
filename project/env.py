"""Strict reading of the environment on top of django-environ.

django-environ treats any unrecognised boolean as False and lets a bad integer escape as a bare
ValueError. A deployment that sets ``DEBUG=flase`` or ``CONN_MAX_AGE=1m`` should not start with a
silently different meaning, so every unusable value is refused with a message that names the
variable and what it accepts.

Problems are collected rather than raised one at a time: the settings module reads on with the
default, and :meth:`StrictEnv.raise_problems` at its end reports every bad variable in one
``ImproperlyConfigured``, so that a deployment is fixed in one round instead of one per variable.
"""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import environ
from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")

TRUE_WORDS = frozenset({"1", "true", "yes", "on", "y", "t"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", "n", "f", ""})


class StrictEnv(environ.Env):
    """An ``environ.Env`` that refuses values it cannot parse instead of guessing.

    A refused value is recorded (:meth:`refuse`) and the default is returned in its place, so that
    reading goes on; :meth:`raise_problems` then raises one error listing them all.
    """

    def __init__(self, **scheme: Any):
        super().__init__(**scheme)
        self.problems: list[str] = []

    def refuse(self, message: str) -> None:
        """Record that the environment is unusable, for :meth:`raise_problems` to report."""
        self.problems.append(message)

    def raise_problems(self) -> None:
        """Raise ``ImproperlyConfigured`` naming every problem recorded, if there is any."""
        if len(self.problems) == 1:
            raise ImproperlyConfigured(self.problems[0])
        if self.problems:
            listed = "\n".join(f"- {problem}" for problem in self.problems)
            raise ImproperlyConfigured(
                f"{len(self.problems)} problems with the environment:\n{listed}"
            )

    def build(self, factory: Callable[..., T], /, **kwargs: Any) -> T | None:
        """``factory(**kwargs)``, for a builder of settings that refuses with
        ``ImproperlyConfigured``; on refusal the problem is recorded and None returned."""
        try:
            return factory(**kwargs)
        except ImproperlyConfigured as exc:
            self.refuse(str(exc))
            return None

    def get_value(
        self,
        var: str,
        cast: Any = None,
        default: Any = environ.Env.NOTSET,
        parse_default: bool = False,
    ) -> Any:
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ImproperlyConfigured, ValueError, TypeError, KeyError) as exc:
            raw = self.ENVIRON.get(f"{self.prefix}{var}", "")
            if isinstance(exc, ImproperlyConfigured):
                self.refuse(str(exc))
            else:
                self.refuse(f"{var}={raw!r} cannot be read as {_describe(cast)}: {exc}")
            return None if default is environ.Env.NOTSET else default

    @classmethod
    def parse_value(cls, value: Any, cast: Any) -> Any:
        if cast is bool and isinstance(value, str):
            word = value.strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            words = sorted((TRUE_WORDS | FALSE_WORDS) - {""})
            raise ValueError(f"expected one of {', '.join(words)}")
        if cast is int and isinstance(value, str):
            return int(value.strip())
        return super().parse_value(value, cast)

    def choice(self, var: str, choices: Sequence[str], default: str) -> str:
        """Read ``var`` as one of ``choices`` (case-insensitive)."""
        value = self.str(var, default=default).strip().lower()
        if value not in choices:
            self.refuse(f"{var}={value!r} is not allowed; use one of: {', '.join(choices)}")
            return default
        return value

    def url_or_none(
        self, var: str, parser: Callable[[str], dict[str, Any]]
    ) -> dict[str, Any] | None:
        """Parse a URL variable with ``parser`` (e.g. ``self.db_url``), or None when unset."""
        if not self.str(var, default="").strip():
            return None
        problems_before = len(self.problems)
        try:
            parsed = parser(var)
        except Exception as exc:  # django-environ raises several types for bad URLs
            self.refuse(f"{var} is not a valid URL: {exc}")
            return None
        # A parse error that get_value recorded comes back as None.
        return None if len(self.problems) > problems_before else parsed


def _describe(cast: object) -> str:
    if cast is bool:
        return "a boolean (1/0, true/false, yes/no, on/off)"
    if cast is int:
        return "an integer"
    if cast is float:
        return "a number"
    return getattr(cast, "__name__", "the expected type")
