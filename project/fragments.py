"""``{% constant "name" %}...{% endconstant %}``: a part of a page rendered once per language.

Most of a page's markup is the same for every visitor who reads it in the same language: the
header's links and labels, the language list, the footer, the texts a script reads from
``data-`` attributes. Jinja2 still writes it piece by piece on every request, a call and an escape
per label and per URL. A constant block is written the first time it is needed for a language,
script prefix and URLconf (``ADMIN_HOST`` switches the URLconf), and its finished markup is
reused from then on.

A constant block can only use what is the same for every request in one language: the block
is refused when the template is compiled if its body reads any other variable (``request``,
``user``, ``form``, ``csrf_input``...), so a visitor's data can never end up in another
visitor's page. Loop variables and ``{% set %}`` inside the block are its own and allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from django.urls import get_script_prefix, get_urlconf
from django.utils import translation
from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.ext import Extension

if TYPE_CHECKING:
    from jinja2 import Environment
    from jinja2.parser import Parser
    from markupsafe import Markup

# The names a constant block may read: the environment's globals that depend on nothing but the
# language (project/jinja2.py), and the page's language itself (set at the top of base.html).
CONSTANT_NAMES = frozenset(
    {
        "_",
        "gettext",
        "ngettext",
        "url",
        "static",
        "available_languages",
        "get_current_language",
        "SITE_NAME",
        "LANGUAGE_CODE",
    }
)

# Finished fragments by (name, language, script prefix, URLconf): a handful of names, as many
# languages as settings.LANGUAGES, so the dictionary stays small without a cap.
_FRAGMENTS: dict[tuple[str, str | None, str, object], Markup | str] = {}


class ConstantFragmentExtension(Extension):
    """The ``constant`` tag (module docstring); add it to the Jinja2 backend's ``extensions``."""

    tags = {"constant"}

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        # The names met while compiling a template (one parser each), to refuse one used twice.
        self._names: WeakKeyDictionary[Parser, set[str]] = WeakKeyDictionary()

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        name = parser.stream.expect("string").value
        # The template's name is part of the key, so two templates may use the same name.
        key = f"{parser.name}:{name}"
        seen = self._names.setdefault(parser, set())
        if key in seen:
            parser.fail(f"constant block {name!r} appears twice in this template", lineno)
        seen.add(key)
        body = parser.parse_statements(("name:endconstant",), drop_needle=True)
        _refuse_request_data(name, body, lineno, parser)
        render = self.call_method("_render", [nodes.Const(key)])
        return nodes.CallBlock(render, [], [], body).set_lineno(lineno)

    def _render(self, name: str, caller: Callable[[], Markup | str]) -> Markup | str:
        key = (name, translation.get_language(), get_script_prefix(), get_urlconf())
        try:
            return _FRAGMENTS[key]
        except KeyError:
            return _FRAGMENTS.setdefault(key, caller())


def _refuse_request_data(name: str, body: list[nodes.Node], lineno: int, parser: Parser) -> None:
    """Raise TemplateSyntaxError when the block reads a variable that may differ per request."""
    own = {"loop"} | {
        target.name
        for node in _walk(body, (nodes.For, nodes.Assign, nodes.AssignBlock))
        for target in _walk([node.target], nodes.Name)
    }
    for variable in _walk(body, nodes.Name):
        if variable.ctx != "load" or variable.name in CONSTANT_NAMES or variable.name in own:
            continue
        raise TemplateSyntaxError(
            f"constant block {name!r} reads {variable.name!r}, which can differ from one "
            f"request to the next; a constant block may read only {sorted(CONSTANT_NAMES)}",
            lineno,
            parser.name,
            parser.filename,
        )


def _walk(top: list[nodes.Node], kind: type | tuple[type, ...]) -> Iterator[Any]:
    """The nodes of ``kind`` among ``top`` and everything under them (``find_all`` skips the
    node it is called on)."""
    for node in top:
        if isinstance(node, kind):
            yield node
        yield from node.find_all(kind)
