"""The anchor of ``bench.http_routes``: the smallest FastAPI app, served the same way (one uvicorn
worker, same venv) — what a route costs with nothing of ours in it."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
