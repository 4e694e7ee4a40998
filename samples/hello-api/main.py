"""The sample FastAPI app the default manifest runs (manifests/hello-api.yaml)."""
import asyncio
import os

from fastapi import FastAPI

app = FastAPI(title="hello-api")


@app.get("/")
async def hello():
    return {"hello": "world", "pid": os.getpid()}


@app.get("/slow")
async def slow(seconds: float = 2.0):
    """A request that takes a while: a graceful stop lets it finish."""
    print(f"slow request started ({seconds}s)", flush=True)
    await asyncio.sleep(seconds)
    return {"slept": seconds}
