"""Checking answers against the OpenAPI schema the docs serve, strictly: every property the
component lists is required and no other may appear, and `nullable` is honoured."""

import jsonschema
from drf_spectacular.generators import SchemaGenerator

_components: dict | None = None


def _schemas() -> dict:
    global _components
    if _components is None:
        _components = SchemaGenerator().get_schema(request=None, public=True)["components"][
            "schemas"
        ]
    return _components


def _strict(node):
    """OpenAPI 3.0 -> JSON Schema: `nullable` becomes a null alternative, boolean exclusive
    bounds numbers, `$ref`s point into `definitions`; objects with properties take no others."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _strict(value) for key, value in node.items()}
    if "$ref" in node:
        node["$ref"] = node["$ref"].replace("#/components/schemas/", "#/definitions/")
    for bound, exclusive in (("maximum", "exclusiveMaximum"), ("minimum", "exclusiveMinimum")):
        if node.get(exclusive) is True:  # 3.0's boolean form
            node[exclusive] = node.pop(bound)
    if node.get("type") == "object" and "properties" in node:
        node.setdefault("additionalProperties", False)
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def validator(component: str) -> jsonschema.Draft7Validator:
    schemas = _schemas()
    schema = {"$ref": f"#/definitions/{component}", "definitions": _strict(schemas)}
    return jsonschema.Draft7Validator(schema)


def assert_conforms(component: str, data) -> None:
    errors = sorted(validator(component).iter_errors(data), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
