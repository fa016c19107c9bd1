"""Reports the largest source files and the longest functions of the workspace.

A file's size is its lines without its unit-test module (`#[cfg(test)] mod tests { ... }` at the
end); test crates (`tests/`), benchmarks and `shared/src/testing.rs` are left out. A function is
measured from its `fn` line to its closing brace. Exits 1 when a file reaches MAX_FILE lines or a
function passes MAX_FN lines.

Usage: python3 scripts/code_size.py [--top N]
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MAX_FILE = 500
MAX_FN = 80
FN = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+(\w+)")
TEST_MODULE = re.compile(r"^#\[cfg\(test\)\]\s*\n(pub(\(crate\))? )?mod \w+ \{", re.M)


def sources():
    for path in sorted(ROOT.glob("**/*.rs")):
        rel = path.relative_to(ROOT)
        parts = rel.parts
        if parts[0] in ("target", "tests") or "benches" in parts or "node_modules" in parts or rel.as_posix() == "shared/src/testing.rs":
            continue
        if len(parts) > 2 and parts[0] in ("functions", "tools") and parts[2] == "tests":
            continue
        yield rel, path.read_text()


def code_lines(text):
    cut = TEST_MODULE.search(text)
    return text[: cut.start()] if cut else text


def functions(text):
    """(name, first line, length) of each function with a body."""
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        m = FN.match(line)
        if not m:
            continue
        depth, opened = 0, False
        for j in range(i, len(lines)):
            stripped = re.sub(r'"(?:\\.|[^"\\])*"|//.*', "", lines[j])
            if not opened and stripped.rstrip().endswith(";") and "{" not in stripped:
                break  # a declaration without a body
            depth += stripped.count("{") - stripped.count("}")
            opened = opened or "{" in stripped
            if opened and depth <= 0:
                out.append((m.group(1), i + 1, j - i + 1))
                break
    return out


def main():
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 10
    files, fns = [], []
    for rel, text in sources():
        code = code_lines(text)
        files.append((code.count("\n"), rel))
        fns += [(length, f"{rel}:{line} {name}") for name, line, length in functions(code)]
    files.sort(reverse=True)
    fns.sort(reverse=True)
    print(f"largest files (lines without unit tests; limit {MAX_FILE}):")
    for n, rel in files[:top]:
        print(f"  {n:5} {rel}")
    print(f"longest functions (limit {MAX_FN}):")
    for n, where in fns[:top]:
        print(f"  {n:5} {where}")
    over = [f for f in files if f[0] >= MAX_FILE] + [f for f in fns if f[0] > MAX_FN]
    print(f"{len(files)} files, {len(fns)} functions: {len(over)} over the limits")
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
