"""The shells: settings, the ``resync`` command and (later) the FastAPI app. Only this package reads settings."""
