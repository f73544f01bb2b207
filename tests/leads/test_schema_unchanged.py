"""The lead endpoints' OpenAPI description, against a golden copy.

Performance work on leads/api (a read serializer beside LeadSerializer, a token
authentication subclass, filtering only where it narrows a list) must leave the published
contract as it was. Compared: every operation under /api/v1/leads/ as served by
/api/schema/?format=json (parameters, request bodies, success responses, security, and
which error statuses it lists), the components those reference (transitively), and the
security schemes the operations name.

Not compared: the error responses' bodies and descriptions, which common.schema derives
from the exception handler (shared with other endpoints and owned there), and any other path.

To regenerate the golden copy after a deliberate change of the leads' contract:

    REGENERATE_GOLDEN=1 .venv/bin/pytest tests/leads/test_schema_unchanged.py

and review the diff of tests/leads/golden/schema-leads.json.
"""

import json
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden" / "schema-leads.json"
REGENERATE = os.environ.get("REGENERATE_GOLDEN") == "1"
PREFIX = "/api/v1/leads/"
COMPONENT = "#/components/schemas/"


def _references(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_references(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_references(value) for value in node))
    return set()


def lead_contract(schema: dict) -> dict:
    """The leads' operations (error responses as their status codes only), the components
    they reach, and their security schemes."""
    paths = {}
    for path, item in schema["paths"].items():
        if not path.startswith(PREFIX):
            continue
        paths[path] = {}
        for method, operation in item.items():
            operation = dict(operation)
            responses = operation["responses"]
            operation["responses"] = {
                code: response for code, response in responses.items() if code < "400"
            }
            operation["error_statuses"] = sorted(code for code in responses if code >= "400")
            paths[path][method] = operation
    components = schema["components"]["schemas"]
    reached, pending = {}, sorted(_references(paths))
    while pending:
        ref = pending.pop()
        name = ref.removeprefix(COMPONENT)
        if name in reached:
            continue
        reached[name] = components[name]
        pending.extend(sorted(_references(components[name])))
    schemes = {
        name
        for item in paths.values()
        for operation in item.values()
        for requirement in operation.get("security", [])
        for name in requirement
    }
    security = schema["components"].get("securitySchemes", {})
    return {
        "paths": paths,
        "components": {name: reached[name] for name in sorted(reached)},
        "securitySchemes": {name: security[name] for name in sorted(schemes)},
    }


def test_the_lead_endpoints_schema_is_unchanged(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    # Key order is kept (no sort_keys): the served document's order is part of what is compared.
    text = json.dumps(lead_contract(response.json()), indent=1, ensure_ascii=False) + "\n"
    if REGENERATE:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
