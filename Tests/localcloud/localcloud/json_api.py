"""Requests and answers of AWS's JSON 1.1 protocol (SSM, EC2 Instance Connect) for the cloud's own actions."""
from __future__ import annotations

import json


class JsonError(Exception):
    """An error answer: `{"__type": code, "message": …}` with an HTTP status (400 unless told)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def read_json(environ) -> dict:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        body = json.loads(raw or b"{}")
    except ValueError as e:
        raise JsonError("SerializationException", f"the request body is not JSON: {e}") from e
    if not isinstance(body, dict):
        raise JsonError("SerializationException", "the request body must be a JSON object")
    return body


def answer(start_response, payload: dict, status: int = 200) -> list[bytes]:
    body = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 500: "Internal Server Error"}.get(status, "Error")
    start_response(f"{status} {reason}", [("Content-Type", "application/x-amz-json-1.1"),
                                         ("Content-Length", str(len(body)))])
    return [body]


def error(start_response, e: JsonError) -> list[bytes]:
    return answer(start_response, {"__type": e.code, "message": e.message}, e.status)


def page(items: list, body: dict, default: int, low: int, high: int) -> tuple[list, str | None]:
    """One page of `items` by MaxResults/NextToken (an offset, opaque to callers)."""
    size = body.get("MaxResults", default)
    if not isinstance(size, int) or not low <= size <= high:
        raise JsonError("ValidationException", f"MaxResults must be an integer from {low} to {high}, got {size!r}")
    token = body.get("NextToken") or "0"
    if not str(token).isdigit() or int(token) > len(items):
        raise JsonError("InvalidNextToken", "The specified token isn't valid: send the NextToken of the previous answer.")
    start = int(token)
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)
