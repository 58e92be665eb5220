#!/usr/bin/env python3
"""Validate JSON documents against a JSON Schema (draft-07 or 2020-12, from its "$schema").

    validate_json.py SCHEMA FILE [FILE...]

Exits 0 when every FILE is valid, 1 when any is not (each error is printed with its JSON path),
2 on usage errors or an unreadable or invalid schema. Needs python3-jsonschema (Debian).
"""

import json
import sys


def load(path):
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        import jsonschema
        from jsonschema.validators import validator_for
    except ImportError:
        print("validate_json: python3-jsonschema is not installed (run scripts/setup.sh --tests)",
              file=sys.stderr)
        return 2
    schema_path = argv[1]
    try:
        schema = load(schema_path)
        cls = validator_for(schema)
        cls.check_schema(schema)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        print(f"validate_json: bad schema {schema_path}: {e}", file=sys.stderr)
        return 2
    validator = cls(schema)
    failed = False
    for path in argv[2:]:
        try:
            doc = load(path)
        except (OSError, ValueError) as e:
            print(f"{path}: not readable JSON: {e}", file=sys.stderr)
            failed = True
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors[:50]:
            where = "/".join(str(p) for p in e.absolute_path) or "(root)"
            print(f"{path}: {where}: {e.message}", file=sys.stderr)
        if errors:
            print(f"{path}: {len(errors)} schema error(s) against {schema_path}", file=sys.stderr)
            failed = True
        else:
            print(f"{path}: valid against {schema_path} ({cls.__name__})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
