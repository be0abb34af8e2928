"""What route handlers receive through ``Depends``: the running application (``compose.App``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from .compose import App


async def running(connection: HTTPConnection) -> App:
    """The application the lifespan opened (settings, store, parts, compiled graph, auth, facade).
    (``async``: a plain function would be run in a worker thread at every request.)"""
    app: App = connection.app.state.resync
    return app


Running = Annotated[App, Depends(running)]
