"""Strict reading of the environment on top of django-environ.

django-environ treats any unrecognised boolean as False and lets a bad integer escape as a bare
ValueError. A deployment that sets ``DEBUG=flase`` or ``CONN_MAX_AGE=1m`` should not start with a
silently different meaning, so every parse error here becomes an ``ImproperlyConfigured`` that
names the variable and what it accepts.
"""

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on", "y", "t"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", "n", "f", ""})


class StrictEnv(environ.Env):
    """An ``environ.Env`` that refuses values it cannot parse instead of guessing."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except ImproperlyConfigured:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raw = self.ENVIRON.get(f"{self.prefix}{var}", "")
            raise ImproperlyConfigured(
                f"{var}={raw!r} cannot be read as {_describe(cast)}: {exc}"
            ) from exc

    @classmethod
    def parse_value(cls, value, cast):
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

    def choice(self, var, choices, default):
        """Read ``var`` as one of ``choices`` (case-insensitive)."""
        value = self.str(var, default=default).strip().lower()
        if value not in choices:
            raise ImproperlyConfigured(
                f"{var}={value!r} is not allowed; use one of: {', '.join(choices)}"
            )
        return value

    def url_or_none(self, var, parser):
        """Parse a URL variable with ``parser`` (e.g. ``self.db_url``), or None when unset."""
        if not self.str(var, default="").strip():
            return None
        try:
            return parser(var)
        except ImproperlyConfigured:
            raise
        except Exception as exc:  # django-environ raises several types for bad URLs
            raise ImproperlyConfigured(f"{var} is not a valid URL: {exc}") from exc


def _describe(cast):
    if cast is bool:
        return "a boolean (1/0, true/false, yes/no, on/off)"
    if cast is int:
        return "an integer"
    if cast is float:
        return "a number"
    return getattr(cast, "__name__", "the expected type")
