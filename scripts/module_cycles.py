"""Checks that the shared crate's modules use each other without cycles.

Reads every module of `shared/src` (test modules and `testing.rs` left out: they may use
anything), collects the paths it uses (`crate::…`, `super::…`, and bare paths through a module it
imported), and reports:

- each cycle between modules (files; a module using a submodule it declares counts), and
- each cycle between capabilities (the top-level folders: `signin`, `tokens`, `directory`, …),
  with the capability graph itself.

Exit status 1 when there is a cycle. A module declaring its submodules (`pub mod x;`) is not a
use. Usage: python3 scripts/module_cycles.py [--graph]
"""

import pathlib
import re
import sys

SRC = pathlib.Path(__file__).resolve().parent.parent / "shared" / "src"
PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE = re.compile(r"\buse\s+([^;]+);", re.S)
TEST_MODULE = re.compile(r"^\s*#\[cfg\(test\)\]\s*\n\s*(pub )?mod \w+\s*\{", re.M)


def module_of(path):
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return tuple(parts)


def strip(text):
    """Source without comments, strings and test modules."""
    cut = TEST_MODULE.search(text)
    if cut:
        text = text[: cut.start()]
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def resolve(module, root, rest, modules):
    """The longest known module a path names, or None."""
    if root == "crate":
        base = ()
    elif root == "self":
        base = module
    else:  # super: the parent of this module (of its folder for mod.rs)
        base = module[:-1]
    segs = [s for s in rest.split("::") if s]
    while segs and segs[0] == "super":
        base = base[:-1]
        segs = segs[1:]
    path = base + tuple(segs)
    while path and path not in modules:
        path = path[:-1]
    return path or None


def edges_of(file, module, modules):
    text = strip(file.read_text())
    found = set()
    aliases = {}  # a module imported by name (`use crate::signin::flow;`), then used as `flow::x`
    for use in USE.finditer(text):
        flat = " ".join(use.group(1).split())
        for m in PATH.finditer(flat):
            target = resolve(module, m.group(1), m.group(2), modules)
            if target and target[-1] == m.group(2).split("::")[-1]:
                aliases[target[-1]] = target
        for m in re.finditer(r"\b(crate|super|self)((?:::\w+)+)::\{[^}]*\bself\b", flat):
            target = resolve(module, m.group(1), m.group(2), modules)
            if target:
                aliases[target[-1]] = target
    for m in PATH.finditer(text):
        target = resolve(module, m.group(1), m.group(2), modules)
        if target:
            found.add(target)
    for m in re.finditer(r"\b(super|self)((?:::super)*)::\{", text):  # `use super::{A, B}`
        target = resolve(module, m.group(1), m.group(2), modules)
        if target:
            found.add(target)
    for child in re.findall(r"^\s*(?:pub(?:\([^)]*\))? )?mod (\w+);", text, re.M):
        aliases.setdefault(child, module + (child,))
    for name, target in aliases.items():
        if re.search(rf"(?<![:\w]){name}::", text):
            found.add(target)
    # a folder module using its own submodules, or a submodule naming its ancestors' declarations
    return found - {module}


def cycles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def main():
    files = [f for f in SRC.rglob("*.rs") if f.name != "testing.rs"]
    modules = {module_of(f) for f in files}
    graph = {}
    for f in files:
        module = module_of(f)
        graph[module] = {t for t in edges_of(f, module, modules) if t != module}
    name = lambda m: "::".join(m) or "crate"
    bad = False
    for comp in cycles(graph):
        bad = True
        print("module cycle:", " <-> ".join(name(m) for m in comp))
    capability = lambda m: m[0] if m else "crate"
    caps = {}
    for m, targets in graph.items():
        for t in targets:
            if capability(t) != capability(m) and capability(m) != "crate" and capability(t) != "crate":
                caps.setdefault(capability(m), set()).add(capability(t))
    for comp in cycles(caps):
        bad = True
        print("capability cycle:", " <-> ".join(comp))
    if "--graph" in sys.argv or bad:
        for c in sorted(caps):
            print(f"{c} -> {', '.join(sorted(caps[c]))}")
    print(f"{len(modules)} modules, {sum(len(t) for t in graph.values())} uses:", "cycles found" if bad else "no cycles")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
