"""A real `direkte serve` for the browser tests: a fresh embedded database with the demo
network, plus a small network of the tests' own (open around the clock, so SLA clocks run
whenever the tests do) and an integration API key to push visits with."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.factories import make_vin
from tests.processes import _free_port

PASSWORD = "browser-tests-pass-1"
ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
# The tests' own network: one pilot center with one local manager on duty and a regional
# manager, customers in two languages, one ops user.
NETWORK: dict[str, Any] = {
    "regions": [
        {"code": "TST", "name": "Test Region", "countries": ["NO"], "time_zone": "Europe/Oslo"}
    ],
    "centers": [
        {
            "code": "TST-01",
            "name": "Test Center Lillestrøm",
            "region": "TST",
            "country": "NO",
            "time_zone": "Europe/Oslo",
            "lat": 59.95,
            "lon": 11.05,
            "business_hours": ALWAYS_OPEN,
            "program": "pilot",
        }
    ],
    "staff": [
        {
            "email": "local@browser-tests.example.com",
            "password": PASSWORD,
            "role": "local_manager",
            "center": "TST-01",
            "name": "Liv Lokal",
            "title": "Service Manager",
            "phone": "+4791111111",
            "languages": ["nb", "en"],
            "on_duty": True,
        },
        {
            "email": "advisor@browser-tests.example.com",
            "password": PASSWORD,
            "role": "service_advisor",
            "center": "TST-01",
            "name": "Aksel Advisor",
            "title": "Service Advisor",
            "phone": "+4791111112",
            "languages": ["nb", "en"],
        },
        {
            "email": "regional@browser-tests.example.com",
            "password": PASSWORD,
            "role": "regional_manager",
            "region": "TST",
            "name": "Rolf Regional",
            "title": "Regional Service Manager",
            "phone": "+4792222222",
            "languages": ["nb", "en", "sv"],
        },
        {
            "email": "ops@browser-tests.example.com",
            "password": PASSWORD,
            "role": "ops_admin",
            "name": "Olga Ops",
            "title": "Operations",
            "phone": "+4793333333",
            "languages": ["en"],
        },
    ],
    "customers": [
        {
            "email": f"customer{n}@browser-tests.example.com",
            "password": PASSWORD,
            "name": f"Kari Kunde {n}",
            "phone": f"+474000000{n}",
            "language": "en",
        }
        for n in range(1, 10)
    ],
}


@dataclass
class LiveServer:
    """A running server and what the tests need to drive it."""

    url: str
    env: dict[str, str]
    api_key: str
    demo_logins: dict[str, str] = field(default_factory=dict)
    demo_password: str = ""

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def token(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        with self.api() as client:
            got = client.post("/api/v1/auth/token", data={"username": email, "password": password})
            got.raise_for_status()
            return {"Authorization": f"Bearer {got.json()['access_token']}"}

    def push_disputed_estimate(self, customer: str, *, external_id: str | None = None) -> int:
        """A checked-in visit at TST-01 whose estimate rose far over the approved one;
        returns the visit's id."""
        external_id = external_id or f"BT-{secrets.token_hex(4)}"
        key = {"X-API-Key": self.api_key}
        base = f"/api/v1/integration/visits/{external_id}"
        vin = _vin()
        with self.api() as client:
            visit = client.put(
                base,
                headers=key,
                json={
                    "center": "TST-01",
                    "customer_email": customer,
                    "vehicle": {
                        "vin": vin,
                        "model": "Model Y",
                        "model_year": 2023,
                        "odometer_km": 31000,
                        "delivery_date": "2023-05-02",
                    },
                    "concern": "Clunk from the rear suspension over bumps",
                    "status": "checked_in",
                    "drivable": True,
                },
            )
            assert visit.status_code in (200, 201), visit.text
            client.post(
                f"{base}/diagnoses",
                headers=key,
                json={"findings": "Worn rear upper control arm bushings", "codes": ["C1234"]},
            ).raise_for_status()
            for price, approved, reason in (
                ("1200.00", True, "First estimate"),
                ("9800.00", False, "Control arms and subframe bushings must be replaced"),
            ):
                client.post(
                    f"{base}/estimates",
                    headers=key,
                    json={
                        "lines": [
                            {
                                "kind": "part",
                                "description": "Rear control arm",
                                "quantity": 1,
                                "unit_price": price,
                            },
                            {
                                "kind": "labour",
                                "description": "Fitting",
                                "quantity": "1.5",
                                "unit_price": "1100.00",
                            },
                        ],
                        "currency": "NOK",
                        "reason": reason,
                        "approved": approved,
                    },
                ).raise_for_status()
            return int(visit.json()["id"])


def _vin() -> str:
    """A random VIN with a valid check digit."""
    return make_vin(secrets.randbelow(999_999))


@contextmanager
def live_server(data_dir: Path) -> Iterator[LiveServer]:
    """Start ``direkte serve`` on a free port over a fresh embedded database."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "DIREKTE_DATABASE_URL" and not key.startswith("DIREKTE_REDIS")
    }
    env.update(
        DIREKTE_DATA_DIR=str(data_dir),
        DIREKTE_SECRET_KEY="browser-tests-secret-0123456789-abcdefghij",
        DIREKTE_LOG_LEVEL="warning",
        DIREKTE_RATE_LIMIT="off",
        DIREKTE_RATE_LIMIT_ANONYMOUS="off",
    )
    port = _free_port()
    command = Path(sys.executable).with_name("direkte")
    log = (data_dir / "serve.log").open("w")
    proc = subprocess.Popen(
        [str(command), "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert proc.stdout is not None
        logins, password = _read_logins(proc)
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, proc)
        network = data_dir / "browser-network.json"
        network.write_text(json.dumps(NETWORK))
        _cli(env, "network", "load", str(network))
        key = _cli(env, "apikey", "create", "--name", "browser-tests").strip().splitlines()[-1]
        yield LiveServer(url=url, env=env, api_key=key, demo_logins=logins, demo_password=password)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _read_logins(proc: subprocess.Popen[str]) -> tuple[dict[str, str], str]:
    """The demo log-ins `direkte serve` prints before it serves."""
    assert proc.stdout is not None
    logins: dict[str, str] = {}
    password = ""
    for line in proc.stdout:
        found = re.search(r"password for all: ([^)\s]+)\)", line)
        if found:
            password = found.group(1)
        elif line.startswith("  ") and "@" in line:
            role, email = line.split()
            logins[role] = email
        elif logins and not line.strip():
            break
    # Keep draining what the server prints, so that it never writes into a full pipe.
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return logins, password


def _wait_ready(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"direkte serve exited with {proc.returncode}")
        try:
            httpx.get(f"{url}/healthz", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("direkte serve did not start")


def _cli(env: dict[str, str], *args: str) -> str:
    command = Path(sys.executable).with_name("direkte")
    done = subprocess.run(
        [str(command), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout
