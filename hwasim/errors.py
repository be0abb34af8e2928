"""Engine errors rendered as the v1-style body ``{"messages": [...], "exceptionName": ...}``."""

from __future__ import annotations

from fastapi.responses import JSONResponse


class EngineError(Exception):
    def __init__(self, status: int, message: str, exception_name: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.exception_name = exception_name


def error_response(status: int, message: str, exception_name: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="twsd"'} if status == 401 else None
    return JSONResponse({"messages": [message], "exceptionName": exception_name}, status_code=status, headers=headers)
