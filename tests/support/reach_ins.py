"""Find the project's reach-ins: the private names of libraries that its own source touches.

A private name is an attribute or module name with one leading underscore (``_cache``, not
``__call__``). The project's source is every ``.py`` file outside ``tests/`` and the hidden and
generated directories. Found:

* ``obj._name`` on anything but ``self``/``cls`` (and ``getattr(obj, "_name")`` and the like),
  unless the project itself defines ``_name``, in a class of its own or at a module's top level;
* ``self._name`` (or ``cls._name``, or a method ``_name`` defined) in a class whose method
  resolution order holds a library class that knows ``_name``: has it as an attribute, or names
  it in its methods' code. The project class may read it, set it or override it: all count. A
  project class with no library class above it reaches in when it uses a ``_name`` that the
  project defines nowhere (a mixin reading its host's attribute);
* ``from library import _name``, and a module path with a private part (``uvicorn._types``);
* a string key ``"_name"`` read (``data.get("_name")``, ``data["_name"]``) that the project never
  stores itself.

The library side is found by importing the project's modules in a separate process (importing
``server.daphne`` installs a Twisted reactor; Django is set up), without reading any library's
source: a class's own attributes and the ``co_names`` of its functions' code objects.

``python -m tests.support.reach_ins`` prints what it finds, one ``file: name`` a line.
"""

import ast
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Directories that hold no source of the project's own.
SKIPPED = {"tests", "test-artifacts", "staticfiles", "node_modules", "__pycache__", "locale"}
# The project's top-level packages and modules: anything else is a library.
PROJECT_PACKAGES = {"accounts", "bench", "chat", "conformance", "core", "project", "rfc6455"}
PROJECT_PACKAGES |= {"server", "scripts", "deploy", "manage", "tests"}
KEY_METHODS = {"get", "pop", "setdefault"}
ATTRIBUTE_FUNCTIONS = {"getattr", "setattr", "hasattr", "delattr"}


def is_private(name):
    return name.startswith("_") and not name.startswith("__") and len(name) > 1


def source_files(root=ROOT):
    """The project's Python files, relative to ``root``, sorted."""
    found = []
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        if any(part.startswith(".") or part in SKIPPED for part in parts[:-1]):
            continue
        found.append(path.relative_to(root))
    return sorted(found)


def module_name(path):
    """The dotted module of a project file, e.g. ``core.session_backends.file``."""
    parts = list(path.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@dataclass
class ClassUse:
    """The private names a project class touches through ``self``/``cls`` or defines."""

    file: str
    module: str
    qualname: str
    names: set = field(default_factory=set)


@dataclass
class Scan:
    """What the static pass found in the project's source."""

    # Defined by the project: top-level names, and the members of its classes (methods, class
    # attributes, ``self._x = ...``). Which of the latter are library names is decided later.
    module_level: set = field(default_factory=set)
    class_members: dict = field(default_factory=dict)  # (module, qualname) -> set of names
    # (file, name) of private names reached on other objects, imported, or read as keys.
    foreign: set = field(default_factory=set)
    imported: set = field(default_factory=set)
    keys_read: set = field(default_factory=set)
    keys_stored: set = field(default_factory=set)
    classes: list = field(default_factory=list)


def _constant_string(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and is_private(node.value):
        return node.value
    return None


def _is_self(node):
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def _is_super_call(node):
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
    )


class _FileScanner(ast.NodeVisitor):
    def __init__(self, scan, path):
        self.scan = scan
        self.file = str(path)
        self.module = module_name(path)
        self.stack = []  # enclosing ClassUse of the class being visited (innermost last)
        self.depth = 0  # function nesting, to tell module-level definitions

    # Definitions.

    def visit_ClassDef(self, node):
        outer = self.stack[-1].qualname + "." if self.stack else ""
        # A class made inside a function: "<locals>" in its name, as in __qualname__.
        qualname = outer + ("<locals>." if self.depth else "") + node.name
        use = ClassUse(self.file, self.module, qualname)
        self.scan.classes.append(use)
        members = self.scan.class_members.setdefault((self.module, qualname), set())
        for statement in node.body:
            for target in _assigned_names(statement):
                if is_private(target):
                    members.add(target)
                    use.names.add(target)
        if not self.stack and self.depth == 0 and is_private(node.name):
            self.scan.module_level.add(node.name)
        self.stack.append(use)
        saved, self.depth = self.depth, 0
        self.generic_visit(node)
        self.depth = saved
        self.stack.pop()

    def _visit_function(self, node):
        if self.stack and self.depth == 0:
            if is_private(node.name):
                self.scan.class_members[(self.module, self.stack[-1].qualname)].add(node.name)
                self.stack[-1].names.add(node.name)
        elif not self.stack and self.depth == 0 and is_private(node.name):
            self.scan.module_level.add(node.name)
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = _visit_function

    def visit_Assign(self, node):
        if not self.stack and self.depth == 0:
            for target in node.targets:
                for name in _target_names(target):
                    if is_private(name):
                        self.scan.module_level.add(name)
        self.generic_visit(node)

    # Uses.

    def visit_Attribute(self, node):
        if is_private(node.attr):
            self._attribute(node.value, node.attr, isinstance(node.ctx, ast.Store))
        self.generic_visit(node)

    def _attribute(self, receiver, name, stored):
        if (_is_self(receiver) or _is_super_call(receiver)) and self.stack:
            use = self.stack[-1]
            use.names.add(name)
            if stored:
                self.scan.class_members[(self.module, use.qualname)].add(name)
        else:
            self.scan.foreign.add((self.file, name))

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Name) and func.id in ATTRIBUTE_FUNCTIONS and len(node.args) >= 2:
            name = _constant_string(node.args[1])
            if name:
                self._attribute(node.args[0], name, func.id == "setattr")
        if isinstance(func, ast.Attribute) and func.attr in KEY_METHODS and node.args:
            name = _constant_string(node.args[0])
            if name:
                (self.scan.keys_stored if func.attr == "setdefault" else self.scan.keys_read).add(
                    (self.file, name)
                )
        self.generic_visit(node)

    def visit_Subscript(self, node):
        name = _constant_string(node.slice)
        if name:
            stored = isinstance(node.ctx, ast.Store)
            (self.scan.keys_stored if stored else self.scan.keys_read).add((self.file, name))
        self.generic_visit(node)

    def visit_Dict(self, node):
        for key in node.keys:
            name = _constant_string(key) if key is not None else None
            if name:
                self.scan.keys_stored.add((self.file, name))
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        module = node.module or ""
        if node.level == 0 and module.split(".")[0] not in PROJECT_PACKAGES:
            for part in module.split("."):
                if is_private(part):
                    self.scan.imported.add((self.file, module))
            for alias in node.names:
                if is_private(alias.name):
                    self.scan.imported.add((self.file, alias.name))
        self.generic_visit(node)

    def visit_Import(self, node):
        for alias in node.names:
            if alias.name.split(".")[0] in PROJECT_PACKAGES:
                continue
            if any(is_private(part) for part in alias.name.split(".")):
                self.scan.imported.add((self.file, alias.name))
        self.generic_visit(node)


def _target_names(target):
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _target_names(element)


def _assigned_names(statement):
    if isinstance(statement, ast.Assign):
        for target in statement.targets:
            yield from _target_names(target)
    elif isinstance(statement, ast.AnnAssign):
        yield from _target_names(statement.target)


def scan_source(root=ROOT):
    """The static pass over the project's source."""
    scan = Scan()
    for path in source_files(root):
        tree = ast.parse((root / path).read_text(encoding="utf-8"), filename=str(path))
        _FileScanner(scan, path).visit(tree)
    return scan


# The library side, in a process of its own.

CHILD = """
import importlib, json, sys, types
import server.daphne  # as the project starts: our reactor first
import django
django.setup()

PROJECT = set(json.loads(sys.argv[1]))
wanted = json.loads(sys.stdin.read())

def code_names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= code_names(const)
    return names

def member_names(member):
    for attr in ("fget", "fset", "fdel", "__func__", "func", "real_func", "__wrapped__"):
        inner = getattr(member, attr, None)
        if inner is not None and inner is not member:
            return member_names(inner)
    code = getattr(member, "__code__", None)
    return code_names(code) if code is not None else set()

def library_names(cls):
    known = set()
    for klass in cls.__mro__:
        if klass is object or klass.__module__.split(".")[0] in PROJECT:
            continue
        for name, member in vars(klass).items():
            known.add(name)
            known |= member_names(member)
    return known

def project_mro(cls):
    return [
        (klass.__module__, klass.__qualname__)
        for klass in cls.__mro__
        if klass.__module__.split(".")[0] in PROJECT
    ]

found = {}
errors = []
for module, qualname in wanted:
    try:
        obj = importlib.import_module(module)
    except Exception as exc:
        errors.append(f"{module}: {type(exc).__name__}: {exc}")
        continue
    parts = qualname.split(".")
    for part in parts:
        # Absent at run time: a class under ``if TYPE_CHECKING:`` (a TypedDict for mypy), or a
        # model's Meta consumed by its outer class; neither reaches into a library as it runs.
        if not hasattr(obj, part):
            break
        obj = getattr(obj, part)
    if not isinstance(obj, type) or obj.__qualname__ != qualname:
        continue
    found[f"{module}:{qualname}"] = {
        "library": sorted(n for n in library_names(obj) if n.startswith("_")),
        "mro": project_mro(obj),
    }
print(json.dumps({"found": found, "errors": errors}))
"""


def library_knowledge(classes):
    """``{"module:qualname": {"library": [...], "mro": [(module, qualname), ...]}}`` for the
    project classes given as (module, qualname), imported in a child process."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DEBUG": os.environ.get("DEBUG", "1"),
    }
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(sorted(PROJECT_PACKAGES))],
        input=json.dumps(sorted(set(classes))),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"importing the project's classes failed:\n{result.stderr}")
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    if answer["errors"]:
        raise RuntimeError("cannot import: " + "; ".join(answer["errors"]))
    return answer["found"]


def reach_ins(root=ROOT):
    """Every (file, private name) of a library that the project touches, sorted."""
    scan = scan_source(root)
    # Classes defined inside functions cannot be imported: their names count as the project's.
    importable = [use for use in scan.classes if "<" not in use.qualname]
    knowledge = library_knowledge((use.module, use.qualname) for use in importable)
    uses = {(use.module, use.qualname): use for use in scan.classes}

    found = set(scan.imported)
    # Which members of project classes are the project's own: not known to a library class
    # above any project class that inherits them.
    shadowing = {}  # (module, qualname) of a project class -> library names above it somewhere
    for facts in knowledge.values():
        for owner in facts["mro"]:
            shadowing.setdefault(tuple(owner), set()).update(facts["library"])
    own = set(scan.module_level)
    for owner, members in scan.class_members.items():
        own |= members - shadowing.get(owner, set())
    for owner, use in uses.items():
        library = shadowing.get(owner, set())
        for name in use.names:
            if name in library or name not in own:
                found.add((use.file, name))
    found |= {(file, name) for file, name in scan.foreign if name not in own}
    stored = {name for _, name in scan.keys_stored}
    found |= {(file, name) for file, name in scan.keys_read if name not in stored}
    return sorted(found)


if __name__ == "__main__":
    for file, name in reach_ins():
        print(f"{file}: {name}")
