"""server/COMPAT.md read as data: its rows, each under the section of the files it is about.

A row is ``| `Name` | library version | Why | What our code assumes | Guarded by |``, in a section
whose heading names the project files concerned (``## core/session_backends/file.py``, several
separated by commas). "Guarded by" holds code spans: ``compat`` (the case of the same name in
tests/server/test_compat.py) and tests elsewhere (``tests/path.py`` or ``tests/path.py::test``).
"""

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "server" / "COMPAT.md"
CODE_SPAN = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Row:
    files: tuple  # the project files its section is about
    name: str
    library: str
    version: str
    why: str
    assumes: str
    guards: tuple  # the code spans of "Guarded by"
    line: int


def sections(text=None):
    """``[(heading, [table lines with their line numbers])]`` in document order."""
    text = COMPAT.read_text(encoding="utf-8") if text is None else text
    found = [("", [])]
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            found.append((line[3:].strip(), []))
        elif line.startswith("| `"):
            found[-1][1].append((number, line))
    return found


def heading_files(heading):
    """The project files a section heading names: the comma-separated parts that are paths."""
    parts = [part.strip() for part in heading.split(",")]
    return tuple(part for part in parts if re.fullmatch(r"[\w./-]+\.py", part))


def rows(text=None):
    """Every row of the document's tables, as :class:`Row`."""
    found = []
    for heading, lines in sections(text):
        for number, line in lines:
            # Cells split on the pipes Markdown does not escape (``\|`` is a pipe in a cell).
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
            if len(cells) != 5:
                raise ValueError(f"server/COMPAT.md:{number}: {len(cells)} cells, not 5: {line}")
            name, library, why, assumes, guards = cells
            library_name, _, version = library.partition(" ")
            found.append(
                Row(
                    files=heading_files(heading),
                    name=name.strip("`"),
                    library=library_name,
                    version=version,
                    why=why,
                    assumes=assumes,
                    guards=tuple(CODE_SPAN.findall(guards)),
                    line=number,
                )
            )
    return found
