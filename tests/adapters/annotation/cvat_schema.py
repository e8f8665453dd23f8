"""CVAT 2.23.1's own OpenAPI schema, judging every request the fake CVAT receives.

``fixtures/cvat_2.23.1_openapi.json`` is the server's ``GET /api/schema/`` answer; openapi-core
validates each request's path, method, parameters and body against it, and a refusal is turned
into the answer the real server gives (DRF error bodies, as recorded in
``fixtures/cvat_2.23.1_exchanges_full.jsonl``): a missing field is ``400 {"image_quality":
["This field is required."]}``, a body of the wrong media type 415, an unknown path 404, an
unknown field in a PATCH 403 with nothing applied.

Where the schema and the real server disagree, the server wins, and only there:

- security: the schema asks for a session cookie, the CSRF token *and* the token header
  together, while CVAT accepts ``Authorization: Token <key>`` alone (the recording did just
  that); the fake checks credentials itself;
- multipart form fields are text on the wire; DRF parses them by the field's type, so each
  non-string property of a multipart body is declared JSON-encoded (``"95"`` reads as 95);
- the login's missing-field error is a bare list, as recorded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).parent / "fixtures" / "cvat_2.23.1_openapi.json"
NOT_FOUND_PAGE = "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>"
_UNKNOWN_FIELD = {"detail": "Attempted to update an unknown field"}
_BAD_ACTION = ["Please specify a correct 'action' for the request"]
_LOGIN_MISSING = ['Must include either "username" or "email" and "password".']


@dataclass(frozen=True)
class SchemaRequest:
    """One request as openapi-core reads it."""

    host_url: str
    method: str  # lower case, as openapi-core reads it
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    cookies: dict[str, str]
    body: bytes
    content_type: str

    @cached_property  # openapi-core fills in the path parameters it resolved
    def parameters(self) -> Any:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        return RequestParameters(
            query=ImmutableMultiDict(self.query),
            header=Headers(self.headers),
            cookie=ImmutableMultiDict(self.cookies),
        )


@dataclass(frozen=True)
class SchemaResponse:
    """One JSON answer as openapi-core reads it."""

    status_code: int
    data: bytes
    content_type: str = "application/vnd.cvat+json"

    @property
    def headers(self) -> Any:
        from werkzeug.datastructures import Headers

        return Headers({"Content-Type": self.content_type})


@dataclass(frozen=True)
class Verdict:
    """The schema's judgement: the operation matched, or the real server's refusal."""

    operation_id: str | None
    status: int | None = None
    body: Any = None

    @property
    def refused(self) -> bool:
        return self.status is not None


class CvatSchema:
    """Validates requests against CVAT's schema with openapi-core."""

    def __init__(self) -> None:
        from jsonschema_path import SchemaPath
        from openapi_core.templating.paths.finders import APICallPathFinder
        from openapi_core.validation.request.validators import (
            V30RequestBodyValidator,
            V30RequestParametersValidator,
        )
        from openapi_core.validation.response.validators import V30ResponseDataValidator

        raw = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
        _declare_typed_form_fields(raw)
        spec = SchemaPath.from_dict(raw)
        self._paths = APICallPathFinder(spec)
        self._body = V30RequestBodyValidator(spec)
        self._parameters = V30RequestParametersValidator(spec)
        self._no_unknown_fields = V30RequestBodyValidator(
            spec, forbid_unspecified_additional_properties=True
        )
        self._response = V30ResponseDataValidator(
            spec, extra_media_type_deserializers={"application/vnd.cvat+json": json.loads}
        )

    def judge(self, request: SchemaRequest) -> Verdict:
        """The operation ``request`` calls, or how CVAT refuses it."""
        from openapi_core.templating.paths.exceptions import OperationNotFound, PathError

        try:
            found = self._paths.find(request.method, request.host_url + request.path)
        except OperationNotFound:
            method = request.method.upper()
            return Verdict(None, 405, {"detail": f'Method "{method}" not allowed.'})
        except PathError:
            return Verdict(None, 404, NOT_FOUND_PAGE)
        operation = str(found.operation["operationId"])
        refusal = self._parameter_refusal(request) or self._body_refusal(operation, request)
        if refusal is not None:
            return Verdict(operation, *refusal)
        return Verdict(operation)

    def response_errors(self, request: SchemaRequest, status: int, body: Any) -> list[str]:
        """Where a successful JSON answer departs from the schema (the fake's own check).

        Two departures are the real server's own, as recorded, and so allowed: ``null`` for
        fields the schema does not mark nullable (``assignee``, ``target_storage``, ...) and
        the 200 of ``PUT /api/jobs/{id}/annotations/``, which the schema does not declare.
        """
        from openapi_core.templating.responses.exceptions import ResponseNotFound

        if status >= 300 or body is None or isinstance(body, str):
            return []
        response = SchemaResponse(status, json.dumps(body).encode())
        found = []
        for error in self._response.iter_errors(request, response):
            if isinstance(error.__cause__ or error, ResponseNotFound):
                continue
            causes = getattr(error.__cause__, "schema_errors", None)
            problems = [e for e in causes if e.instance is not None] if causes else [error]
            found += [
                f"{request.method.upper()} {request.path} -> {status}: {_error_text(problem)}"
                for problem in problems
            ]
        return found

    def _parameter_refusal(self, request: SchemaRequest) -> tuple[int, Any] | None:
        for error in self._parameters.iter_errors(request):
            name = getattr(error, "name", "")
            if getattr(error, "location", "") == "path":
                return 404, NOT_FOUND_PAGE  # e.g. /api/tasks/ matched /api/tasks/{id} with ""
            if name == "action":
                return 400, _BAD_ACTION
            return 400, {name: ["A valid integer is required."]}
        return None

    def _body_refusal(self, operation: str, request: SchemaRequest) -> tuple[int, Any] | None:
        from openapi_core.deserializing.media_types.exceptions import (
            MediaTypeDeserializeError,
        )
        from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
        from openapi_core.validation.request.exceptions import MissingRequestBody

        for error in self._body.iter_errors(request):
            if isinstance(error, MissingRequestBody):
                continue  # the body is optional (e.g. Upload-Start)
            cause = error.__cause__
            if isinstance(cause, MediaTypeNotFound):
                kind = request.content_type.split(";")[0]
                return 415, {"detail": f'Unsupported media type "{kind}" in request.'}
            if isinstance(cause, MediaTypeDeserializeError):
                return 400, {"detail": "JSON parse error"}
            schema_errors = list(getattr(cause, "schema_errors", ()))
            if operation == "auth_create_login" and _any_required(schema_errors):
                return 400, _LOGIN_MISSING
            return 400, drf_errors(schema_errors) or {"detail": str(error)}
        if operation.endswith("_partial_update") and any(
            True for _ in self._no_unknown_fields.iter_errors(request)
        ):
            return 403, _UNKNOWN_FIELD
        return None


@cache
def cvat_schema() -> CvatSchema:
    """The schema, loaded once per test session (it takes a moment)."""
    return CvatSchema()


def drf_errors(errors: list[Any]) -> Any:
    """Django REST framework's error body for jsonschema errors (field -> [messages])."""
    body: dict[Any, Any] = {}
    for error in errors:
        while error.context:  # oneOf / anyOf: the branch that got deepest into the body
            error = max(error.context, key=lambda e: len(e.absolute_path))
        path, message = list(error.absolute_path), _message(error)
        if error.validator == "required":
            path.append(re.match(r"'(.+)' is a required property", error.message)[1])  # type: ignore[index]
        elif error.validator == "type" and error.validator_value == "array":
            path.append("non_field_errors")
        _put(body, path or ["non_field_errors"], message)
    return _as_lists(body)


def _message(error: Any) -> str:
    value, instance = error.validator_value, error.instance
    messages = {
        "required": "This field is required.",
        "maximum": f"Ensure this value is less than or equal to {value}.",
        "minimum": f"Ensure this value is greater than or equal to {value}.",
        "maxLength": f"Ensure this field has no more than {value} characters.",
        "enum": f'"{instance}" is not a valid choice.',
    }
    if error.validator == "type":
        if value == "array":
            return f'Expected a list of items but got type "{type(instance).__name__}".'
        return "A valid integer is required." if value == "integer" else "Not a valid value."
    return messages.get(error.validator, str(error.message))


def _put(body: dict[Any, Any], path: list[Any], message: str) -> None:
    node = body
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node.setdefault(path[-1], []).append(message)


def _as_lists(node: Any) -> Any:
    """Nested dicts keyed by list positions become lists, as DRF reports items ({} when fine)."""
    if not isinstance(node, dict):
        return node
    if node and all(isinstance(key, int) for key in node):
        return [_as_lists(node.get(i, {})) for i in range(max(node) + 1)]
    return {key: _as_lists(value) for key, value in node.items()}


def _error_text(error: Any) -> str:
    path = getattr(error, "absolute_path", None)
    return f"{list(path)}: {error.message[:200]}" if path is not None else str(error)


def _any_required(errors: list[Any]) -> bool:
    return any(error.validator == "required" for error in errors)


def _declare_typed_form_fields(raw: dict[str, Any]) -> None:
    """Multipart scalars that are not strings are parsed from their text, as DRF does."""
    schemas = raw["components"]["schemas"]
    for path in raw["paths"].values():
        for operation in path.values():
            content = (
                operation.get("requestBody", {}).get("content", {})
                if isinstance(operation, dict)
                else {}
            )
            form = content.get("multipart/form-data")
            if form is None or "$ref" not in form["schema"]:
                continue
            schema = schemas[form["schema"]["$ref"].rsplit("/", 1)[-1]]
            typed = [
                name
                for name, prop in schema.get("properties", {}).items()
                if prop.get("type") in ("integer", "number", "boolean")
            ]
            form["encoding"] = {name: {"contentType": "application/json"} for name in typed}
