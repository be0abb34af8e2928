"""What ``langgraph.json`` loads (``langgraph dev`` / LangGraph Studio): the graph, our FastAPI app
(``http.app``) and the auth handler, all from ``server.platform`` (imported once, shared)."""

from server.platform import app, auth, graph

__all__ = ["app", "auth", "graph"]
