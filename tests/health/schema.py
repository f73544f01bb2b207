"""JSON Schema of the application/health+json body (draft-inadarei-api-health-check-06)."""

STATUS = {"enum": ["pass", "warn", "fail"]}

CHECK_ENTRY = {
    "type": "object",
    "required": ["componentType", "status", "time"],
    "properties": {
        "componentId": {"type": "string"},
        "componentType": {"type": "string"},
        "observedValue": {},
        "observedUnit": {"type": "string"},
        "status": STATUS,
        "affectedEndpoints": {"type": "array", "items": {"type": "string"}},
        "time": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"},
        "output": {"type": "string"},
        "links": {"type": "object"},
    },
}

HEALTH = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": STATUS,
        "version": {"type": "string"},
        "releaseId": {"type": "string"},
        "notes": {"type": "array", "items": {"type": "string"}},
        "output": {"type": "string"},
        "serviceId": {"type": "string"},
        "description": {"type": "string"},
        "checks": {
            "type": "object",
            "propertyNames": {"pattern": r"^[A-Za-z][\w.-]*(:[A-Za-z][\w.-]*)?$"},
            "additionalProperties": {"type": "array", "items": CHECK_ENTRY, "minItems": 1},
        },
        "links": {"type": "object"},
    },
}

# The full answer of ready, check and alive: every descriptive member present.
FULL_HEALTH = {**HEALTH, "required": ["status", "version", "releaseId", "serviceId", "checks"]}
