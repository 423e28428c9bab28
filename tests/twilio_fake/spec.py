"""Twilio's OpenAPI (the subset in twilio_spec_subset.json), indexed once for request validation.

SpecIndex.match(method, path) finds the operation for a request; Operation.check_query / check_form return
a list of problems (human-readable strings naming the parameter). Everything is compiled at load time, so a
check is a few dict lookups and regex matches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

SUBSET_PATH = Path(__file__).with_name("twilio_spec_subset.json")

FORM = "application/x-www-form-urlencoded"

Checker = Callable[[str], "str | None"]  # value → problem or None


@dataclass
class Param:
    name: str
    required: bool
    is_array: bool
    check: Checker
    schema: dict


@dataclass
class Operation:
    api: str
    operation_id: str
    method: str
    template: str
    regex: re.Pattern
    path_params: dict[str, Param]
    query_params: dict[str, Param]
    form_params: dict[str, Param] = field(default_factory=dict)
    form_required: frozenset[str] = frozenset()
    has_form_body: bool = False
    response_schemas: dict[str, dict] = field(default_factory=dict)  # status → resolved schema

    def check_path(self, values: dict[str, str]) -> list[str]:
        problems = []
        for name, value in values.items():
            problem = self.path_params[name].check(value)
            if problem:
                problems.append(f"path parameter {name!r} {problem}")
        return problems

    def check_query(self, pairs: Iterable[tuple[str, str]]) -> list[str]:
        return self._check(pairs, self.query_params, "query parameter", required=self._query_required())

    def check_form(self, pairs: Iterable[tuple[str, str]]) -> list[str]:
        if not self.has_form_body:
            pairs = list(pairs)
            return [
                f"form parameter {k!r} sent, but {self.operation_id} takes no request body" for k, _ in pairs
            ]
        return self._check(pairs, self.form_params, "form parameter", required=self.form_required)

    def _query_required(self) -> frozenset[str]:
        return frozenset(name for name, p in self.query_params.items() if p.required)

    def _check(self, pairs, declared: dict[str, Param], kind: str, required: frozenset[str]) -> list[str]:
        problems: list[str] = []
        seen: dict[str, int] = {}
        for name, value in pairs:
            param = declared.get(name)
            if param is None:
                problems.append(
                    f"Unknown {kind} {name!r} for {self.operation_id} ({self.method} {self.template}); "
                    f"declared: {', '.join(sorted(declared)) or 'none'}"
                )
                continue
            seen[name] = seen.get(name, 0) + 1
            if seen[name] == 2 and not param.is_array:
                problems.append(f"{kind} {name!r} sent more than once but is not an array")
            problem = param.check(value)
            if problem:
                problems.append(f"{kind} {name!r} {problem}")
        for name in sorted(required - seen.keys()):
            problems.append(f"Required {kind} {name!r} is missing for {self.operation_id}")
        return problems


class SpecIndex:
    def __init__(self, subset: dict):
        self.subset = subset
        self.operations: list[Operation] = []
        self._templates: list[tuple[re.Pattern, str, dict[str, Operation]]] = []
        for api, doc in subset["apis"].items():
            schemas = doc.get("components", {}).get("schemas", {})
            for template, item in doc["paths"].items():
                regex = _template_regex(template)
                by_method: dict[str, Operation] = {}
                for method, op in item.items():
                    if method not in ("get", "post", "put", "delete", "patch"):
                        continue
                    operation = _build_operation(api, template, regex, method.upper(), op, schemas)
                    by_method[operation.method] = operation
                    self.operations.append(operation)
                self._templates.append((regex, template, by_method))

    @classmethod
    def load(cls, path: Path = SUBSET_PATH) -> SpecIndex:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def match(self, method: str, path: str) -> tuple[Operation | None, dict[str, str], list[str]]:
        """→ (operation, path values, allowed methods). No operation and no allowed methods: unknown path."""
        for regex, _template, by_method in self._templates:
            m = regex.match(path)
            if m:
                op = by_method.get(method)
                return op, m.groupdict(), sorted(by_method)
        return None, {}, []

    def operation(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)

    def schema(self, api: str, name: str) -> dict:
        return _resolve(self.subset["apis"][api]["components"]["schemas"][name], self.subset["apis"][api])


def _template_regex(template: str) -> re.Pattern:
    out, pos = [], 0
    for m in re.finditer(r"\{(\w+)\}", template):
        out.append(re.escape(template[pos : m.start()]))
        out.append(f"(?P<{m.group(1)}>[^/]+)")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$")


def _resolve_ref(schema: dict, schemas: dict) -> dict:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        schema = {
            **schemas[schema["$ref"].rsplit("/", 1)[1]],
            **{k: v for k, v in schema.items() if k != "$ref"},
        }
        seen += 1
    return schema


def _resolve(schema, doc_or_schemas) -> dict:
    schemas = doc_or_schemas.get("components", {}).get("schemas", doc_or_schemas)
    schema = _resolve_ref(schema, schemas)
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "properties":
                out[key] = {name: _resolve(sub, schemas) for name, sub in value.items()}
            elif key == "items":
                out[key] = _resolve(value, schemas)
            else:
                out[key] = value
        return out
    return schema


def _build_operation(api, template, regex, method, op, schemas) -> Operation:
    path_params, query_params = {}, {}
    for p in op.get("parameters", []):
        schema = _resolve_ref(p.get("schema", {}), schemas)
        param = Param(
            p["name"], bool(p.get("required")), schema.get("type") == "array", _checker(schema), schema
        )
        (path_params if p["in"] == "path" else query_params)[p["name"]] = param
    form_params: dict[str, Param] = {}
    form_required: frozenset[str] = frozenset()
    has_form_body = False
    content = op.get("requestBody", {}).get("content", {})
    if FORM in content:
        has_form_body = True
        body = _resolve_ref(content[FORM]["schema"], schemas)
        form_required = frozenset(body.get("required", []))
        for name, sub in body.get("properties", {}).items():
            schema = _resolve_ref(sub, schemas)
            is_array = schema.get("type") == "array"
            item_schema = _resolve_ref(schema.get("items", {}), schemas) if is_array else schema
            form_params[name] = Param(name, name in form_required, is_array, _checker(item_schema), schema)
    responses = {}
    for status, response in op.get("responses", {}).items():
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is not None:
            responses[status] = _resolve(schema, schemas)
    return Operation(
        api=api,
        operation_id=op.get("operationId", f"{method} {template}"),
        method=method,
        template=template,
        regex=regex,
        path_params=path_params,
        query_params=query_params,
        form_params=form_params,
        form_required=form_required,
        has_form_body=has_form_body,
        response_schemas=responses,
    )


_INT = re.compile(r"^[+-]?\d+$")
_BOOLS = {"true", "false"}


def _checker(schema: dict) -> Checker:
    """Compile a schema into value → problem|None. Values arrive as strings (form or query encoding)."""
    typ = schema.get("type", "string")
    enum = schema.get("enum")
    pattern = re.compile(schema["pattern"]) if "pattern" in schema else None
    min_len, max_len = schema.get("minLength"), schema.get("maxLength")
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    fmt = schema.get("format")

    def check(value: str) -> str | None:
        if typ == "integer":
            if not _INT.match(value):
                return f"must be an integer, got {value!r}"
            number = int(value)
        elif typ == "number":
            try:
                number = float(value)
            except ValueError:
                return f"must be a number, got {value!r}"
        elif typ == "boolean":
            if value.lower() not in _BOOLS:
                return f"must be true or false, got {value!r}"
            number = None
        else:
            number = None
        if number is not None:
            if minimum is not None and number < minimum:
                return f"must be >= {minimum}, got {value!r}"
            if maximum is not None and number > maximum:
                return f"must be <= {maximum}, got {value!r}"
        if enum is not None and value not in enum:
            return f"must be one of {enum}, got {value!r}"
        if min_len is not None and len(value) < min_len:
            return f"must be at least {min_len} characters, got {value!r}"
        if max_len is not None and len(value) > max_len:
            return f"must be at most {max_len} characters, got {value!r}"
        if pattern is not None and not pattern.search(value):
            return f"must match {pattern.pattern}, got {value!r}"
        if fmt == "uri" and value and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", value):
            return f"must be a URI, got {value!r}"
        return None

    return check
