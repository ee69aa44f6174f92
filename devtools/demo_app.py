"""The demo's application process: a small Starlette app recording through MetricsMiddleware
into the database, driven in-process by httpx. devtools.demo runs it several times.

With ``--outage`` it pauses twice on its standard output (``pause: ...``) and resumes on a line
of standard input, so the demo can stop and start the database in between. It ends by printing
the requests and operations it sent, as JSON, on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
from collections import Counter

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pgmetrics import DatabaseMetricsStorage, configure, track_operation
from pgmetrics.web import MetricsMiddleware

ENDPOINTS = [
    ("GET", "/users/{user_id}", "/users/{}"),
    ("GET", "/orders/{order_id}", "/orders/{}"),
    ("POST", "/orders", "/orders"),
    ("GET", "/health", "/health"),
]


async def _user(request: Request) -> JSONResponse:
    await asyncio.sleep(random.uniform(0.0005, 0.003))  # noqa: S311 - simulated latency
    return JSONResponse({"user": request.path_params["user_id"]})


async def _order(request: Request) -> JSONResponse:
    if int(request.path_params["order_id"]) % 17 == 0:
        return JSONResponse({"error": "order store unavailable"}, status_code=503)
    return JSONResponse({"order": request.path_params["order_id"]})


async def _create_order(_request: Request) -> JSONResponse:
    async with track_operation("send_confirmation_email"):
        await asyncio.sleep(0.001)
    return JSONResponse({"created": True}, status_code=201)


async def _health(_request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def build_app() -> Starlette:
    app = Starlette(
        routes=[
            Route("/users/{user_id:int}", _user),
            Route("/orders/{order_id:int}", _order),
            Route("/orders", _create_order, methods=["POST"]),
            Route("/health", _health),
        ]
    )
    app.add_middleware(MetricsMiddleware)
    return app


async def _drive(
    client: httpx.AsyncClient, count: int, rng: random.Random, sent: Counter[str]
) -> None:
    for _ in range(count):
        method, template, path = rng.choice(ENDPOINTS)
        await client.request(method, path.format(rng.randint(1, 500)))
        sent[f"{method} {template}"] += 1
        if template == "/orders" and method == "POST":
            sent["operation send_confirmation_email"] += 1


def _pause(message: str) -> None:
    print(f"pause: {message}", flush=True)
    sys.stdin.readline()


async def _run(requests: int, outage: bool, seed: int) -> Counter[str]:
    sent: Counter[str] = Counter()
    rng = random.Random(seed)  # noqa: S311 - simulated traffic, reproducible per run
    transport = httpx.ASGITransport(app=build_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        if outage:
            await _drive(client, requests // 2, rng, sent)
            _pause("stop the database")
            await _drive(client, requests - requests // 2, rng, sent)
            _pause("start the database")
        else:
            await _drive(client, requests, rng, sent)
    return sent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--outage", action="store_true")
    args = parser.parse_args()
    # The outage is deliberate: the pool's reconnection attempts would only repeat it.
    logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)
    storage = DatabaseMetricsStorage(args.dsn, batch_interval=0.2, retry_max=1.0)
    configure(storage)
    sent = asyncio.run(_run(args.requests, args.outage, args.seed))
    storage.close(timeout=30)
    print(json.dumps(dict(sent)), flush=True)


if __name__ == "__main__":
    main()
