"""The import graph of covgap, read from the source with ``ast`` (nothing is imported).

Three rules of the house (docs/SPEC.md, "Layout"):

(a) no import cycle between modules;
(b) no module imports a private name (``_x``) from another covgap module;
(c) a stage imports only from its own stage or stages to its left:
    io, config, errors, progress < coverage < analysis < planning < result < export
    < pipeline < diff < cli.

What counts:

- (a) looks at module-level imports only.  Imports inside functions run when called,
  after every module is loaded, and imports under ``if TYPE_CHECKING:`` never run, so
  neither can form a loop at import time; both are left out.  Importing ``a.b.c`` also
  runs the packages' ``__init__`` files; those implicit edges are left out too (every
  module would otherwise "import" covgap/__init__.py, which imports everything), but
  ``from a.b import c`` where ``c`` is a module counts as an import of ``a.b.c`` and of
  ``a.b``.
- (b) looks at every import, wherever it is.
- (c) looks at module-level and ``TYPE_CHECKING`` imports: a type annotation is a
  dependency too.  Imports inside functions are left out: ``Result.write`` and
  ``Result.map`` call up into ``covgap.export`` at run time on purpose, so a notebook
  gets the map from the result it holds.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "covgap"

#: Stages from left to right; a module belongs to the longest prefix that names it.
#: ``compute`` (where heavy stages run: local or Dask) is settings-level plumbing used by
#: coverage, so it sits with config; ``covgap`` itself and ``__main__`` hand names on.
STAGES: tuple[tuple[str, ...], ...] = (
    ("covgap._version", "covgap.config", "covgap.errors", "covgap.progress",
     "covgap.compute", "covgap.io"),
    ("covgap.coverage",),
    ("covgap.analysis",),
    ("covgap.planning",),
    ("covgap.result",),
    ("covgap.export",),
    ("covgap.pipeline",),
    ("covgap.diff",),
    ("covgap.cli",),
    ("covgap", "covgap.__main__"),
)


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    names: tuple[str, ...]
    line: int
    where: str  # "module", "type_checking" or "function"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = importer if MODULES[importer].name == "__init__.py" else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _imports(name: str) -> list[Import]:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"), filename=str(MODULES[name]))
    found: list[Import] = []

    def visit(node: ast.AST, where: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            where = "function"
        if isinstance(node, ast.If) and _is_type_checking(node.test) and where == "module":
            for child in node.body:
                visit(child, "type_checking")
            for child in node.orelse:
                visit(child, where)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(name, alias.name, (), node.lineno, where))
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, node)
            found.append(Import(name, target, tuple(a.name for a in node.names),
                                node.lineno, where))
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(tree, "module")
    return [i for i in found if i.target == "covgap" or i.target.startswith("covgap.")]


IMPORTS = {name: _imports(name) for name in MODULES}


def _targets(imp: Import) -> set[str]:
    """The covgap modules an import runs: the module, and submodules named in a from-import."""
    out = {imp.target} if imp.target in MODULES else set()
    for n in imp.names:
        if f"{imp.target}.{n}" in MODULES:
            out.add(f"{imp.target}.{n}")
    return out


def _stage(module: str) -> int:
    best, rank = -1, -1
    for i, prefixes in enumerate(STAGES):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, rank = len(p), i
    assert rank >= 0, f"{module} is in no stage of STAGES: add it where it belongs"
    return rank


def _private(imp: Import) -> list[str]:
    return [n for n in imp.names if n.startswith("_") and not n.startswith("__")
            and f"{imp.target}.{n}" not in MODULES]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a self-import (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1 or v in graph.get(v, ()):
                out.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_the_walk_sees_the_package():
    # the walk finds the stages and the edges everyone knows are there
    assert {"covgap", "covgap.result", "covgap.pipeline", "covgap.export.map",
            "covgap.analysis.provinces", "covgap.export.rundir"} <= set(MODULES)
    edges = {(i.importer, t) for imps in IMPORTS.values() for i in imps for t in _targets(i)}
    assert ("covgap.export.rundir", "covgap.result") in edges
    assert ("covgap.pipeline", "covgap.result") in edges
    # Result.write calls up into the exporters from inside the method: seen, as a function import
    assert any(i.target == "covgap.export.rundir" and i.where == "function"
               for i in IMPORTS["covgap.result"])


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"a"}}) == [["a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    graph = {name: {t for i in imps if i.where == "module" for t in _targets(i)}
             for name, imps in IMPORTS.items()}
    assert _cycles(graph) == []


def test_no_private_name_is_imported_from_another_module():
    bad = []
    for imps in IMPORTS.values():
        for imp in imps:
            if imp.target == imp.importer:
                continue
            bad += [f"{imp.importer}:{imp.line} imports {name} from {imp.target}"
                    for name in _private(imp)]
    assert bad == []


def test_stages_import_only_leftwards():
    bad = []
    for name, imps in IMPORTS.items():
        for imp in imps:
            if imp.where == "function":
                continue
            for target in _targets(imp):
                if _stage(target) > _stage(name):
                    bad.append(f"{name}:{imp.line} ({imp.where}) imports {target}")
    assert bad == []
