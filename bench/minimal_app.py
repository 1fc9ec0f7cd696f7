"""Reference apps for the benchmark, served with the same gunicorn settings as the wallet.

POST /a   the framework ceiling: parse the JSON body, return a constant
POST /b   the floor of any Redis-backed callback: the same plus one trivial EVALSHA
"""

from __future__ import annotations

import os

import redis
from flask import Flask, Response, request

app = Flask(__name__)
_redis = redis.Redis.from_url(os.environ["REDIS_URL"])
_trivial = _redis.register_script("return 1")
_ANSWER = b'{"result":0,"message":"OK","balance":100.00}'


@app.post("/a")
def ceiling() -> Response:
    request.get_json()
    return Response(_ANSWER, mimetype="application/json")


@app.post("/b")
def floor() -> Response:
    request.get_json()
    _trivial(keys=["bench:{b}"], args=[])
    return Response(_ANSWER, mimetype="application/json")
