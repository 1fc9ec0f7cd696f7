"""The README's curl examples work verbatim and answer what the README shows."""

from __future__ import annotations

import json
import re
import shlex
import time
from pathlib import Path

import redis

from tests.conftest import make_env
from wallet import create_app
from wallet.config import DEMO_OPERATOR_KEY
from wallet.providers.gitslotpark.settings import DEMO_AGENT as DEMO_GITSLOTPARK_AGENT
from wallet.providers.gitslotpark.settings import DEMO_SECRET as DEMO_GITSLOTPARK_SECRET
from wallet.providers.igamingace.callbacks import signature_of
from wallet.providers.igamingace.settings import DEMO_TOKEN as DEMO_IGAMINGACE_TOKEN

README = Path(__file__).resolve().parent.parent / "README.md"


def _section() -> str:
    return README.read_text().split("## Try it", 1)[1].split("\n## ", 1)[0].replace("\\\n", " ")


def _examples() -> list[tuple[list[str], str]]:
    """(curl argv, expected answer) for each curl example of the 'Try it' section."""
    pairs = re.findall(r"(curl .*?)\n# (\{.*\})\n", _section())
    return [(shlex.split(command), expected) for command, expected in pairs]


def _ace_examples(now: int) -> list[tuple[str, str]]:
    """(body, expected answer) for each `ace '...'` example, with $NOW filled in."""
    pairs = re.findall(r"^ace '(.*?)'\n# (\{.*\})$", _section(), flags=re.MULTILINE)
    return [(body.replace("'$NOW'", str(now)), expected) for body, expected in pairs]


def _matches(expected: str, answer: str) -> bool:
    pattern = re.escape(expected).replace(re.escape('"..."'), '"[^"]+"').replace(re.escape("..."), "[0-9]+")
    return re.fullmatch(pattern, answer) is not None


def _request(argv: list[str]) -> tuple[str, dict[str, str], str]:
    headers, body, url = {}, "", ""
    args = iter(argv[1:])
    for arg in args:
        if arg == "-H":
            name, value = next(args).split(": ", 1)
            headers[name] = value
        elif arg == "-d":
            body = next(args)
        elif arg.startswith("http"):
            url = arg.removeprefix("http://127.0.0.1:8000")
    return url, headers, body


def test_readme_examples(redis_client: redis.Redis, prefix: str) -> None:
    """Every example, curl and iGamingAce, run in order with the demo credentials, answers what it shows."""
    env = make_env(
        prefix,
        OPERATOR_API_KEY=DEMO_OPERATOR_KEY,
        GITSLOTPARK_AGENT_ID=DEMO_GITSLOTPARK_AGENT,
        GITSLOTPARK_SECRET_KEY=DEMO_GITSLOTPARK_SECRET,
        IGAMINGACE_API_TOKEN=DEMO_IGAMINGACE_TOKEN,
    )
    client = create_app(env, client=redis_client).test_client()
    examples = _examples()
    assert len(examples) == 8
    for argv, expected in examples:
        url, headers, body = _request(argv)
        content_type = headers.pop("Content-Type", None)
        response = client.post(url, data=body, headers=headers, content_type=content_type)
        answer = response.get_data(as_text=True)
        assert _matches(expected, answer), (url, answer)
        json.loads(answer)
    ace_examples = _ace_examples(int(time.time()))
    assert len(ace_examples) == 6
    for body, expected in ace_examples:
        signature = signature_of(DEMO_IGAMINGACE_TOKEN, body.encode())
        answer = client.post(
            "/igamingace", data=body, content_type="application/json", headers={"X-Request-Signature": signature}
        ).get_data(as_text=True)
        assert _matches(expected, answer), (body, answer)
