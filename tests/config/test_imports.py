"""The apps depend on each other one way (README: the diagram under "Apps"): every import of every
module, at the top or inside a function, read with `ast`, must point down the layers below.

    config wiring   settings, URLconfs, the subscriber table, admin sites, health, Celery: above everything
    edges           inbox, reports, billing, api, agency, client_settings, deliverability: may import the core
                    and each other (without a cycle; README's diagram draws each such arrow)
    telephony       builds on messaging (a missed call's text-back)
    messaging       builds on crm (the caller's contact)
    crm             contacts, outcomes, the block list
    accounts        the tenancy core: agencies, clients, people, hosts, login
    events          the bus
    config helpers  small tools any app may use; they import no app

A module may import its own app and anything lower. Publishing through the bus (config/subscribers.py wires the
listeners) is how a lower app makes a higher one act. No import hides in a function to dodge a cycle: an import
of another app inside a function is refused (it would be a wrong arrow, or needs none), and one of the app's own
modules, config's included, needs a comment saying why it is not at the top (a real comment of at least
WHY_WORDS words on its lines or just above it; `# noqa` says nothing), except the usual pair of a service queuing
its task from the app's tasks module, which imports the service. URL names are arrows too: an app does not name
the URL of an app above it (below)."""

import ast
import io
import re
import tokenize
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CONFIG_HELPERS = (
    "config.crypto",
    "config.db",
    "config.outbound",
    "config.redact",
    "config.settings.env",
    "config.spreadsheet",
)
EDGES = ("inbox", "reports", "billing", "api", "agency", "client_settings", "deliverability")
LAYERS = [  # lowest first
    ("config helpers", CONFIG_HELPERS),
    ("events", ("events",)),
    ("accounts", ("accounts",)),
    ("crm", ("crm",)),
    ("messaging", ("messaging",)),
    ("telephony", ("telephony",)),
    ("edges", EDGES),
    ("config wiring", ("config",)),
]
APPS = sorted({name.split(".")[0] for _, names in LAYERS for name in names})
# A comment that says why: words of the comment on an import's lines or in the block just above it, not a tool's
# directive (noqa, type: ignore and the like), at least this many.
WHY_WORDS = 3
TOOL_DIRECTIVE = re.compile(r"^\s*(noqa|type:\s*ignore|pragma|fmt:|ruff:|mypy:)\b.*$", re.IGNORECASE)


@dataclass(frozen=True)
class Import:
    module: str  # the importer
    line: int
    target: str  # the module imported
    in_function: bool
    commented: bool  # a comment saying why, on its lines or in the block just above (WHY_WORDS)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            yield _module_name(path), path


def _comments(source: str) -> dict[int, str]:
    """Line number → the words of its comment (a real one: tokenize's, not a # in a string), less directives."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            words = token.string.lstrip("#").strip()
            found[token.start[0]] = "" if TOOL_DIRECTIVE.match(words) else words
    return found


def _imports(module: str, path: Path) -> list[Import]:
    source = path.read_text()
    lines = source.splitlines()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []

    comments = _comments(source)

    def commented(node) -> bool:
        said = [comments.get(line, "") for line in range(node.lineno, node.end_lineno + 1)]
        above = node.lineno - 1
        while above in comments and not lines[above - 1].split("#")[0].strip():  # a comment line of its own
            said.append(comments[above])
            above -= 1
        return len(" ".join(said).split()) >= WHY_WORDS

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                targets = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                # `from config import outbound` imports the module config.outbound, not config
                targets = [
                    f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base
                    for alias in child.names
                ]
            else:
                visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))
                continue
            for target in dict.fromkeys(targets):
                if target.split(".")[0] in APPS:
                    found.append(Import(module, child.lineno, target, in_function, commented(child)))

    visit(ast.parse(source), False)
    return found


def _layer(module: str) -> int:
    for helper in CONFIG_HELPERS:
        if module == helper or module.startswith(f"{helper}."):
            return 0
    top = module.split(".")[0]
    for index, (_, names) in enumerate(LAYERS):
        if index and top in names:
            return index
    raise AssertionError(f"{module} is in no layer: add its app to LAYERS in {__name__}")


def _unit(module: str) -> str:
    """The app, with config's helpers apart from its wiring."""
    return "config helpers" if _layer(module) == 0 else module.split(".")[0]


ALL_IMPORTS = [found for module, path in _modules() for found in _imports(module, path)]


def _wrong_arrows() -> dict[tuple[str, str], Import]:
    wrong = {}
    for found in ALL_IMPORTS:
        if _unit(found.module) != _unit(found.target) and _layer(found.target) > _layer(found.module):
            wrong.setdefault((found.module, found.target), found)
    return wrong


def _describe(found: Import) -> str:
    low, high = LAYERS[_layer(found.module)][0], LAYERS[_layer(found.target)][0]
    where = "inside a function" if found.in_function else "at the top"
    return (
        f"{found.module} (line {found.line}, {where}) imports {found.target}: {_unit(found.module)} is in the "
        f"layer '{low}', below '{high}'; an app imports only its own layer's modules and lower ones"
    )


def test_every_app_has_its_layer():
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps <= set(APPS), (
        f"apps in no layer: {sorted(apps - set(APPS))}: add them to LAYERS in {__name__}"
    )


def test_every_import_points_down_the_layers():
    wrong = _wrong_arrows()
    unexpected = [_describe(found) for found in wrong.values()]
    assert not unexpected, (
        "Wrong-way imports (move the code to the app that owns the behaviour, or have the lower app publish "
        "an event that the higher one subscribes to in config/subscribers.py):\n" + "\n".join(unexpected)
    )


def test_the_edges_do_not_import_each_other_in_a_circle():
    graph = defaultdict(set)
    for found in ALL_IMPORTS:
        importer, target = found.module.split(".")[0], found.target.split(".")[0]
        if importer != target and importer in EDGES and target in EDGES:
            graph[importer].add(target)

    def path_back(start, node, seen):
        for following in sorted(graph[node]):
            if following == start:
                return [node, start]
            if following not in seen:
                seen.add(following)
                rest = path_back(start, following, seen)
                if rest:
                    return [node, *rest]
        return None

    for edge in EDGES:
        cycle = path_back(edge, edge, set())
        assert cycle is None, "edges import each other in a circle: " + " -> ".join(cycle)


def _tasks_pair(found: Import) -> bool:
    """A service queuing its task, from the app's tasks module that imports the service's module at the top."""
    app = found.module.split(".")[0]
    if found.target != f"{app}.tasks":
        return False
    return any(
        other.module == found.target and not other.in_function and other.target == found.module
        for other in ALL_IMPORTS
    )


def test_no_import_hides_in_a_function():
    hidden = []
    for found in ALL_IMPORTS:
        if not found.in_function:
            continue
        if _unit(found.module) != _unit(found.target):
            hidden.append(
                f"{found.module} (line {found.line}) imports {found.target} inside a function: import it at the "
                "top, and if that makes a cycle, one of the two arrows points the wrong way"
            )
        elif not found.commented and not _tasks_pair(found):
            hidden.append(
                f"{found.module} (line {found.line}) imports {found.target} inside a function with no comment "
                "saying why it is not at the top (a cycle is no reason: break it)"
            )
    assert not hidden, "\n".join(hidden)


def _readme_diagram() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```text\nconfig wiring")
    return readme[start : readme.index("```\n", start + 3)]


def test_the_readmes_diagram_shows_every_app_and_every_arrow_between_edges():
    """The house plan's diagram (README, "What runs where") names every app of LAYERS, and draws each edge that
    imports another edge (`agency ... ──→ reports, billing`), so the plan cannot fall behind the code."""
    diagram = _readme_diagram()
    for app in APPS:
        assert re.search(rf"\b{app}\b", diagram), f"README's diagram leaves out {app}"
    drawn = set()
    for line in diagram.splitlines():
        if "──→" in line:
            importer = line.split()[0] if not line.startswith("edges") else line.split()[1]
            drawn |= {(importer, target.strip()) for target in line.split("──→")[1].split(",")}
    in_code = {
        (found.module.split(".")[0], found.target.split(".")[0])
        for found in ALL_IMPORTS
        if found.module.split(".")[0] in EDGES
        and found.target.split(".")[0] in EDGES
        and found.module.split(".")[0] != found.target.split(".")[0]
    }
    assert in_code <= drawn, f"draw these edge-to-edge imports in README's diagram: {sorted(in_code - drawn)}"
    assert drawn <= in_code, (
        f"README's diagram draws imports the code no longer has: {sorted(drawn - in_code)}"
    )


# --- Dependencies by name: URL names ------------------------------------------------------------------------
# A reverse("inbox:list") is an arrow too, though no import shows it. Namespaced URL names in Python modules are
# read (a namespace is the app whose URLconf declares it: `app_name = "crm"` in inbox/urls_contacts.py is
# inbox's); templates are not (their directories do not map one to one onto apps, and the shell's shared
# templates link every section), nor are URL names without a namespace.

URL_NAME = re.compile(r"^([a-z][a-z0-9_-]*):[a-z0-9_-]+$")


def _url_namespaces() -> dict[str, str]:
    owners: dict[str, str] = {}
    for path in sorted(ROOT.glob("*/urls*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "app_name" for t in node.targets)
                and isinstance(node.value, ast.Constant)
            ):
                owners[node.value.value] = path.parent.name
    return owners


def test_no_app_names_the_url_of_an_app_above_it():
    owners = _url_namespaces()
    wrong = []
    for module, path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            match = URL_NAME.match(node.value)
            if match is None or match.group(1) not in owners:
                continue
            owner = owners[match.group(1)]
            if _unit(module) != owner and _layer(owner) > _layer(module):
                wrong.append(
                    f"{module} (line {node.lineno}) names the URL {node.value!r}, which is {owner}'s: "
                    f"{_unit(module)} is below it (let the wiring name it: a setting, config/navigation.py)"
                )
    assert not wrong, "\n".join(wrong)
