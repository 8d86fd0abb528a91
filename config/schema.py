"""Post-processing of the OpenAPI schema so that it says what each role really receives."""

from claims.serializers import STAFF_ONLY_FIELDS as CLAIM_STAFF_ONLY
from incidents.api import STAFF_ONLY_FIELDS as INCIDENT_STAFF_ONLY


def staff_only_fields_optional(result, generator, request, public):
    """Fields that merchant users do not receive are not ``required`` in the response schemas.

    drf-spectacular marks every read-only field required; a merchant's copy of a claim or an
    incident leaves the staff-internal fields out, so they are optional there.
    """
    schemas = result.get("components", {}).get("schemas", {})
    for fields_of in (CLAIM_STAFF_ONLY, INCIDENT_STAFF_ONLY):
        for component, fields in fields_of.items():
            schema = schemas.get(component)
            if schema and "required" in schema:
                schema["required"] = [f for f in schema["required"] if f not in fields]
                if not schema["required"]:
                    del schema["required"]
    return result


# Error answers every operation can give, besides what its view documents: DRF's own answers
# (validation 400, permission 403, not found 404, throttled 429) carry {"detail": ...} or a
# field → messages map; the services' errors (core.errors) add a "code".
ERROR_BODY = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail"],
    "description": "What went wrong; `code` names the error of a service.",
}
VALIDATION_BODY = {
    "anyOf": [
        {"$ref": "#/components/schemas/ApiError"},
        {
            "type": "object",
            "description": "Field name → its problems (a list of messages, or the nested fields' problems).",
            "additionalProperties": {"anyOf": [{"type": "array"}, {"type": "object"}, {"type": "string"}]},
        },
    ]
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _add(responses, code, description, schema_ref="#/components/schemas/ApiError"):
    """Document ``code``; a body the view documented already stays one of the accepted shapes."""
    ours = {"$ref": schema_ref}
    existing = responses.get(code, {}).get("content", {}).get("application/json", {}).get("schema")
    schema = {"anyOf": [existing, ours]} if existing and existing != ours else ours
    responses[code] = {
        "description": responses.get(code, {}).get("description") or description,
        "content": {"application/json": {"schema": schema}},
    }


def document_error_responses(result, generator, request, public):
    """Say for every operation which error statuses it may answer, with their bodies.

    drf-spectacular documents the success answers only; a client (and the schemathesis run
    in the suite) must find 400/403/404/409/429 described wherever the API can give them.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ApiError"] = ERROR_BODY
    schemas["ApiValidationError"] = VALIDATION_BODY
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in WRITE_METHODS | {"get"}:
                continue
            responses = operation.setdefault("responses", {})
            params = operation.get("parameters", [])
            has_path = any(p.get("in") == "path" for p in params)
            has_query = any(p.get("in") == "query" for p in params)
            if has_query or "requestBody" in operation or has_path:
                _add(responses, "400", "Invalid input", "#/components/schemas/ApiValidationError")
            if path.endswith("/webhook/"):
                _add(responses, "401", "Missing or bad signature, unknown source, or stale timestamp")
            else:
                _add(responses, "403", "Not signed in, or the role may not do this")
            if has_path or any(p.get("name") == "page" for p in params):
                _add(responses, "404", "No such object (or not visible to the user), or no such page")
            if method in WRITE_METHODS:
                _add(responses, "409", "The object's state does not allow this")
            _add(responses, "429", "Too many requests: throttled")
    return result
