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
