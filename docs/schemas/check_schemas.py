#!/usr/bin/env python3
"""Check hookline's message-format JSON Schemas against their examples.

    python -m venv .venv && .venv/bin/pip install -r docs/schemas/requirements.txt
    .venv/bin/python docs/schemas/check_schemas.py

It checks that each schema is a valid draft 2020-12 schema with the expected $id, a title and a
description on every property; that every file in examples/ is valid against its schema; and
that every file in examples/invalid/ is not. A file's name picks its schema: inbound-*,
outbound-* or delivery-*. The Rust tests (shared/src/envelope.rs) decode the same files, so
the schemas and the Rust types are held to the same examples.

Prints one line per file checked and a closing "N passed, M failed"; exits 1 on any failure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

HERE = Path(__file__).resolve().parent
ID_BASE = "https://hookline.dev/schemas/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS = {
    "inbound": "inbound-envelope.v1.schema.json",
    "outbound": "outbound-message.v1.schema.json",
    "delivery": "delivery-message.v1.schema.json",
}


def undocumented(node: object, path: str = "#") -> list[str]:
    """JSON pointers of properties (anywhere in the schema) that have no description."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    if not (isinstance(sub, dict) and sub.get("description")):
                        found.append(f"{path}/properties/{name}")
            found.extend(undocumented(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(undocumented(value, f"{path}/{i}"))
    return found


def load_json(path: Path) -> object:
    # Reject repeated keys, as the Rust decoders do, instead of silently keeping the last.
    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        keys = [k for k, _ in pairs]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"repeated key(s): {', '.join(repeated)}")
        return dict(pairs)

    return json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)


def schema_for(path: Path) -> str | None:
    prefix = path.name.split("-", 1)[0].removesuffix(".json")
    return prefix if prefix in SCHEMAS else None


def main() -> int:
    passed = failed = 0

    def report(ok: bool, what: str, detail: str) -> None:
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
        print(f"{'ok  ' if ok else 'FAIL'} {what}: {detail}")

    validators: dict[str, Draft202012Validator] = {}
    for prefix, name in SCHEMAS.items():
        path = HERE / name
        try:
            schema = load_json(path)
            Draft202012Validator.check_schema(schema)
        except (OSError, ValueError, SchemaError) as e:
            report(False, name, f"not a valid schema: {str(e).splitlines()[0]}")
            continue
        problems = []
        if schema.get("$schema") != DRAFT:
            problems.append(f"$schema is not {DRAFT}")
        if schema.get("$id") != ID_BASE + name:
            problems.append(f"$id is not {ID_BASE + name}")
        if not schema.get("title"):
            problems.append("no title")
        problems += [f"no description at {p}" for p in undocumented(schema)]
        report(not problems, name, "; ".join(problems) or "valid draft 2020-12 schema")
        validators[prefix] = Draft202012Validator(schema)

    for folder, expect_valid in (("examples", True), ("examples/invalid", False)):
        files = sorted((HERE / folder).glob("*.json"))
        if not files:
            report(False, folder, "no example files found")
        for path in files:
            what = f"{folder}/{path.name}"
            prefix = schema_for(path)
            if prefix is None:
                report(False, what, "name must start with inbound-, outbound- or delivery-")
                continue
            if prefix not in validators:
                report(False, what, f"schema {SCHEMAS[prefix]} did not load")
                continue
            try:
                instance = load_json(path)
            except (OSError, ValueError) as e:
                report(False, what, f"unreadable JSON: {e}")
                continue
            errors = sorted(validators[prefix].iter_errors(instance), key=lambda e: e.path)
            if expect_valid:
                detail = "; ".join(
                    f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                    for e in errors
                )
                report(not errors, what, detail or f"valid against {SCHEMAS[prefix]}")
            elif errors:
                first = errors[0]
                where = "/".join(map(str, first.absolute_path)) or "(root)"
                report(True, what, f"rejected as expected ({where}: {first.message[:100]})")
            else:
                report(False, what, f"should be invalid against {SCHEMAS[prefix]} but is valid")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
