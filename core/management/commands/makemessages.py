"""``makemessages`` that reads the pages' messages with Jinja2's own parser.

Django's ``makemessages`` turns each template into pseudo-Python for xgettext with the Django
template language's lexer (``templatize``), which does not understand Jinja2's ``{% trans %}``
blocks. For the templates of the Jinja2 engine this writes the pseudo-Python from
``Environment.extract_translations`` instead: one ``gettext(...)``/``ngettext(...)`` call per
message, on the message's own line, so the catalogue's ``#: path:line`` references stay right.
Every other file goes through Django's command unchanged.
"""

from pathlib import Path

from django.core.management.commands import makemessages
from django.template import engines
from django.template.backends.jinja2 import Jinja2

# Jinja2 gives a plural message as (singular, plural, None) for ngettext; pgettext and
# npgettext put the context first.
_CALLS = {
    "gettext": "gettext({})",
    "_": "gettext({})",
    "ngettext": "ngettext({}, {}, n)",
    "pgettext": "pgettext({}, {})",
    "npgettext": "npgettext({}, {}, {}, n)",
}


def jinja2_engine_for(path: str | Path) -> Jinja2 | None:
    """The Jinja2 engine whose template directories hold ``path``, or None."""
    resolved = Path(path).resolve()
    for engine in engines.all():
        if isinstance(engine, Jinja2) and any(
            resolved.is_relative_to(Path(directory).resolve()) for directory in engine.template_dirs
        ):
            return engine
    return None


def jinja2_to_python(engine: Jinja2, source: str) -> str:
    """Pseudo-Python with the messages of the Jinja2 template ``source``, line for line."""
    lines: list[list[str]] = [[] for _ in range(source.count("\n") + 1)]
    for lineno, function, message in engine.env.extract_translations(source):
        strings = [message] if isinstance(message, str) else list(message)
        # A None stands for a non-literal argument (the count of ngettext): not a message.
        literals = [repr(string) for string in strings if string is not None]
        if function in _CALLS and len(literals) == _CALLS[function].count("{}"):
            lines[lineno - 1].append(_CALLS[function].format(*literals))
    return "\n".join("; ".join(calls) for calls in lines) + "\n"


class BuildFile(makemessages.BuildFile):
    """A file to extract messages from, read with Jinja2's parser when it is a Jinja2 template."""

    def preprocess(self) -> None:
        engine = jinja2_engine_for(self.path) if self.is_templatized else None
        if engine is None:
            return super().preprocess()
        with open(self.path, encoding="utf-8") as source:
            content = jinja2_to_python(engine, source.read())
        with open(self.work_path, "w", encoding="utf-8") as work:
            work.write(content)


class Command(makemessages.Command):
    """Django's ``makemessages``, with the Jinja2 templates read by :class:`BuildFile`."""

    build_file_class = BuildFile
