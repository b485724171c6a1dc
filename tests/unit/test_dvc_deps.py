"""Every DVC stage's deps cover the politune/stages modules its command imports (transitively), so a
code change reruns exactly the stages that use it."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def module_file(mod: str) -> Path | None:
    base = REPO / Path(*mod.split("."))
    if base.with_suffix(".py").exists():
        return base.with_suffix(".py")
    if (base / "__init__.py").exists():
        return base / "__init__.py"
    return None


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    pkg = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                mod = ".".join(
                    pkg.split(".")[: len(pkg.split(".")) - node.level + 1] + ([mod] if mod else [])
                )
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return {m for m in out if m.split(".")[0] in ("politune", "stages")}


def closure(entry: Path) -> set[Path]:
    seen: set[Path] = set()
    todo = [entry]
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        for mod in imports_of(f):
            mf = module_file(mod)
            if mf is not None:
                todo.append(mf)
    return seen


def covered(f: Path, deps: list[str]) -> bool:
    rel = f.relative_to(REPO).as_posix()
    if rel.endswith("__init__.py") and rel.count("/") == 1:
        return True  # the package markers politune/__init__.py and stages/__init__.py hold no logic
    return any(rel == d or rel.startswith(d.rstrip("/") + "/") for d in deps)


def test_stage_deps_cover_imports() -> None:
    dvc = yaml.safe_load((REPO / "dvc.yaml").read_text())
    problems = []
    for name, st in dvc["stages"].items():
        body = st.get("do", st)
        cmd = body["cmd"]
        module = cmd.split(" -m ")[1].split()[0]  # sh scripts/python.sh -m stages.<name> ...
        entry = module_file(module)
        assert entry is not None, f"{name}: {module} not found"
        deps = [d for d in body["deps"] if isinstance(d, str)]
        for f in sorted(closure(entry)):
            if not covered(f, deps):
                problems.append(f"{name}: imports {f.relative_to(REPO)} but it is not in its deps")
    assert not problems, "\n".join(problems)
