"""OpenAPI descriptions of the request and response bodies the routes parse by hand.

The STIR and attestation routes read their bodies themselves (strict JSON, their own error shapes), so FastAPI
cannot infer the schemas; these are handed to the routes as ``openapi_extra`` and served in ``/openapi.json``.
They document what the parsers accept; the parsers stay the authority (and refuse more, e.g. duplicate keys).
"""

from __future__ import annotations

from typing import Any

__all__ = ["SIGNING", "VERIFICATION", "ATTEST", "AUDIT_BUNDLE"]

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

# RFC 9795 claims of a passed verification's PASSporT (node.shaken.verify): returned only when rcdStatus is verified.
_RICH_CALL_DATA: dict[str, Any] = {
    "rcdStatus": {"type": "string", "enum": ["verified", "failed"],
                  "description": "present when the PASSporT of a passed verification carries rcd, rcdi or crn"},
    "rcdReason": {"type": "string", "examples": ["passport.no_integrity"],
                  "description": "when rcdStatus is failed: the first failed rule, a passport.* code (docs/errors.md)"},
    "rcd": {"type": "object", "description": "RFC 9795 rich call data as signed (nam, apn, icn, jcd, jcl)",
            "required": ["nam"], "properties": {
                "nam": {"type": "string"}, "apn": {"type": "string"}, "icn": {"type": "string", "format": "uri"},
                "jcl": {"type": "string", "format": "uri"}, "jcd": {"type": "array"}}},
    "rcdi": {"type": "object", "additionalProperties": {"type": "string", "pattern": "^sha(256|384|512)-"},
             "description": "JSON pointer into rcd -> integrity digest; a device checks fetched content (icn) "
                            "against it before showing it", "examples": [{"/icn": "sha256-…"}]},
    "crn": {"type": "string", "description": "RFC 9795 call reason"},
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
        "reasondesc": {"type": "string"}, "attest": {"type": "string"}, "origid": {"type": "string"},
        **_RICH_CALL_DATA}}}}, _ATIS_ERRORS),
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

# GET /v1/audit/{origid}/bundle (node.attest.bundle): the file bytes; `eidln audit verify` is the authority on them.
_ANCHORED = {"type": "object", "required": ["key", "anchoredBlock", "anchoredAt", "credential"], "properties": {
    "key": {"type": "string", "description": "registry key: 0x + SHA-256 of the credential id"},
    "anchoredBlock": {"type": "integer"}, "anchoredAt": {"type": "integer"},
    "credential": {"type": "object", "description": "the signed VC as anchored"}}}
AUDIT_BUNDLE: dict[str, Any] = {
    "responses": {
        "200": {"description": "the bundle file (save the body as it is: one changed byte fails verification)",
                "content": {"application/json": {"schema": {
                    "type": "object", "required": ["content", "signature"], "properties": {
                        "signature": {"type": "string", "description": "compact JWS, detached payload, ES256 by "
                                                                       "the STI key, x5c or jwk in the header"},
                        "content": {"type": "object", "required": ["format", "decision", "ledger", "chain",
                                                                   "vetting", "didDocuments"], "properties": {
                            "format": {"type": "string", "enum": ["eidln-audit-bundle/1"]},
                            "createdAt": {"type": "integer"},
                            "decision": {"type": "object", "description": "the audit record as stored"},
                            "ledger": {"type": "object", "properties": {
                                "network": {"type": "string"}, "chainId": {"type": "integer"},
                                "position": {"type": ["array", "null"], "items": {"type": "integer"}}}},
                            "chain": {"type": "array", "items": _ANCHORED},
                            "vetting": {"type": "array", "items": _ANCHORED},
                            "didDocuments": {"type": "array", "items": {"type": "object", "properties": {
                                "did": {"type": "string"}, "versionTime": {"type": "integer"},
                                "didDocument": {"type": "object"}, "didDocumentMetadata": {"type": "object"}}}}}}}}}}},
        "404": {"description": "no such decision, or no audit log / index (audit.not_found, audit.disabled)",
                "content": {"application/problem+json": {"schema": _PROBLEM}}},
        "409": {"description": "the index no longer holds what the decision rests on (audit.bundle_incomplete)",
                "content": {"application/problem+json": {"schema": _PROBLEM}}},
    },
}

COMPONENTS = {"ATISException": _ATIS_EXCEPTION}
