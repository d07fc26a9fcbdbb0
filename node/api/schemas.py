"""OpenAPI descriptions of the request and response bodies the routes parse by hand.

The STIR and attestation routes read their bodies themselves (strict JSON, their own error shapes), so FastAPI
cannot infer the schemas; these are handed to the routes as ``openapi_extra`` and served in ``/openapi.json``.
They document what the parsers accept; the parsers stay the authority (and refuse more, e.g. duplicate keys).
"""

from __future__ import annotations

from typing import Any

__all__ = ["SIGNING", "VERIFICATION", "ATTEST"]

_TN = {"type": "string", "pattern": "^\\+?[0-9*#().\\- ]{1,32}$", "examples": ["12155551212"]}
_SERVICE_EXCEPTION = {
    "type": "object",
    "properties": {"requestError": {"type": "object", "properties": {
        "serviceException": {"$ref": "#/components/schemas/ATISException"},
        "policyException": {"$ref": "#/components/schemas/ATISException"}}}},
}
_ATIS_EXCEPTION = {"type": "object", "required": ["messageId", "text"], "properties": {
    "messageId": {"type": "string", "examples": ["SVC4001"]}, "text": {"type": "string"},
    "variables": {"type": "array", "items": {"type": "string"}}}}
_PROBLEM = {"type": "object", "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "code": {"type": "string"}, "detail": {"type": "string"}, "instance": {"type": "string"}}}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _answers(ok: dict[str, Any], errors: dict[int, tuple[str, dict[str, Any], str]]) -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": "answer", "content": {"application/json": {"schema": ok}}}}
    for status, (text, schema, media) in errors.items():
        out[str(status)] = {"description": text, "content": {media: {"schema": schema}}}
    return out


_EXC = "application/json"
_ATIS_ERRORS = {400: ("SVC4000/4001/4005/4006", _SERVICE_EXCEPTION, _EXC), 404: ("SVC4003", _SERVICE_EXCEPTION, _EXC),
                405: ("POL4050", _SERVICE_EXCEPTION, _EXC), 406: ("SVC4002", _SERVICE_EXCEPTION, _EXC),
                411: ("SVC4007", _SERVICE_EXCEPTION, _EXC), 415: ("SVC4004", _SERVICE_EXCEPTION, _EXC)}

SIGNING: dict[str, Any] = {
    "requestBody": _json_body({"type": "object", "required": ["signingRequest"], "properties": {
        "signingRequest": {"type": "object", "required": ["attest", "dest", "iat", "orig", "origid"],
                           "additionalProperties": False, "properties": {
            "attest": {"type": "string", "enum": ["A", "B", "C"]},
            "dest": {"type": "object", "required": ["tn"], "additionalProperties": False,
                     "properties": {"tn": {"type": "array", "minItems": 1, "items": _TN}}},
            "iat": {"type": "integer", "minimum": 1, "description": "within 60 s of the server clock"},
            "orig": {"type": "object", "required": ["tn"], "additionalProperties": False, "properties": {"tn": _TN}},
            "origid": {"type": "string", "minLength": 1, "examples": ["de305d54-75b4-431b-adb2-eb6b9e546014"]},
            "ppt": {"type": "string", "enum": ["shaken"]}}}}}),
    "responses": _answers({"type": "object", "properties": {"signingResponse": {"type": "object", "properties": {
        "identity": {"type": "string", "description": "<jws>;info=<x5u>;alg=ES256;ppt=shaken"}}}}}, _ATIS_ERRORS),
}

VERIFICATION: dict[str, Any] = {
    "requestBody": _json_body({"type": "object", "required": ["verificationRequest"], "properties": {
        "verificationRequest": {"type": "object", "required": ["from", "to", "time", "identity"], "properties": {
            "from": {"type": "object", "required": ["tn"], "properties": {"tn": _TN}},
            "to": {"type": "object", "required": ["tn"], "properties": {
                "tn": {"oneOf": [_TN, {"type": "array", "minItems": 1, "items": _TN}]}}},
            "time": {"type": "integer", "description": "the SIP Date, seconds since the epoch"},
            "identity": {"type": "string", "description": "the SIP Identity header value"}}}}}),
    "responses": _answers({"type": "object", "properties": {"verificationResponse": {"type": "object", "properties": {
        "verstat": {"type": "string", "enum": ["TN-Validation-Passed", "TN-Validation-Failed", "No-TN-Validation"]},
        "reasoncode": {"type": "integer", "enum": [403, 428, 436, 437, 438]}, "reasontext": {"type": "string"},
        "reasondesc": {"type": "string"}, "attest": {"type": "string"}, "origid": {"type": "string"}}}}},
        _ATIS_ERRORS),
}

_REASON = {"type": "object", "properties": {"code": {"type": "string"}, "text": {"type": "string"},
                                             "detail": {"type": "string"}}}
ATTEST: dict[str, Any] = {
    "requestBody": _json_body({"type": "object", "required": ["trunk", "headers"], "additionalProperties": False,
                               "properties": {
        "trunk": {"type": "string", "minLength": 1, "maxLength": 64, "description": "the customer trunk id"},
        "headers": {"type": "object", "required": ["To"], "additionalProperties": False, "properties": {
            "From": {"type": "string", "examples": ['"Acme" <sip:+12025550142@pbx.acme.example>;tag=1']},
            "P-Asserted-Identity": {"type": "string"}, "To": {"type": "string"},
            "Date": {"type": "string", "examples": ["Sat, 28 Nov 2026 19:00:00 GMT"]},
            "Identity": {"oneOf": [{"type": "string"}, {"type": "array", "maxItems": 8, "items": {"type": "string"}}]},
        }}}}),
    "responses": _answers({"type": "object", "properties": {
        "origid": {"type": "string"}, "attest": {"type": "string", "enum": ["A", "B", "C"]},
        "mechanism": {"type": ["string", "null"]}, "trunk": {"type": "string"}, "orig": {"type": "string"},
        "dest": {"type": "array", "items": {"type": "string"}}, "iat": {"type": "integer"},
        "reasons": {"type": "array", "items": _REASON}, "evidence": {"type": ["object", "null"]},
        "identity": {"type": "string", "description": "the OSP's SHAKEN Identity header value"},
        "rcd": {"type": "object"}}},
        {400: ("not a call", _PROBLEM, "application/problem+json"),
         413: ("body over 64 KiB", _PROBLEM, "application/problem+json"),
         415: ("not application/json", _PROBLEM, "application/problem+json")}),
}

COMPONENTS = {"ATISException": _ATIS_EXCEPTION}
