"""Throughput over HTTP: gunicorn serving the platform against a bare Flask app served the same way.

    python bench/http_bench.py --db bench/out/scale-100.sqlite3 --rounds 5 --duration 5 \
        --out bench/out/http.json

Both servers run side by side on loopback with the same gunicorn settings (gthread workers); the
load comes from `wrk` in a second process, bounded in time, on one side at a time, alternated
A B A B ... over the rounds after a warm-up of each. The platform is served as in production,
`gunicorn 'webapp:create_app()'`, on the benchmark data set; the page is the public call list.
Figure: per round, bare requests/s divided by platform requests/s (how many times more a
platform request costs); the median over the rounds and its spread (min-max).
"""

# ruff: noqa: S603 - the commands run here are our own tools with our own arguments

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
SETTINGS = ["--worker-class", "gthread", "--workers", "2", "--threads", "4", "--log-level", "warning"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(app: str, port: int, cwd: Path, env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [GUNICORN, app, *SETTINGS, "--bind", f"127.0.0.1:{port}"],
        cwd=cwd,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer")
        time.sleep(0.3)


def wrk(url: str, duration: int, connections: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": rate,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else "",
        "raw": out,
    }


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, help="SQLite file or database URL of the data set")
    parser.add_argument("--path", default="/calls")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out_dir = Path(args.out).resolve().parent
    url = args.db if "://" in args.db else f"sqlite:///{Path(args.db).resolve()}"
    env = {**os.environ, "APP_CONFIG": "development", "DATABASE_URL": url}
    ports = {"platform": free_port(), "bare": free_port()}
    urls = {
        "platform": f"http://127.0.0.1:{ports['platform']}{args.path}",
        "bare": f"http://127.0.0.1:{ports['bare']}/",
    }
    servers = {
        "platform": start(
            "webapp:create_app()", ports["platform"], ROOT, env, out_dir / "gunicorn-platform.log"
        ),
        "bare": start("bare_app:app", ports["bare"], ROOT / "bench", env, out_dir / "gunicorn-bare.log"),
    }
    try:
        for side in ("platform", "bare"):
            wait_ready(urls[side])
            wrk(urls[side], 2, args.connections)  # warm-up: every worker and thread has served
        rounds = []
        for number in range(args.rounds):
            measured = {
                side: wrk(urls[side], args.duration, args.connections) for side in ("platform", "bare")
            }
            ratio = measured["bare"]["rps"] / measured["platform"]["rps"]
            rounds.append(
                {
                    "round": number + 1,
                    "ratio": ratio,
                    "load": os.getloadavg(),
                    **{f"{side}_rps": m["rps"] for side, m in measured.items()},
                    "problems": {side: (m["non_2xx"], m["socket_errors"]) for side, m in measured.items()},
                }
            )
            print(
                f"  round {number + 1}: platform {measured['platform']['rps']:.0f} req/s, "
                f"bare {measured['bare']['rps']:.0f} req/s, ratio {ratio:.2f}",
                flush=True,
            )
    finally:
        for server in servers.values():
            stop(server)
    ratios = [r["ratio"] for r in rounds]
    result = {
        "path": args.path,
        "database": url.split("://")[0],
        "settings": SETTINGS,
        "wrk": f"-t1 -c{args.connections} -d{args.duration}s",
        "rounds": rounds,
        "median_ratio": statistics.median(ratios),
        "min_ratio": min(ratios),
        "max_ratio": max(ratios),
        "median_platform_rps": statistics.median(r["platform_rps"] for r in rounds),
        "median_bare_rps": statistics.median(r["bare_rps"] for r in rounds),
    }
    Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    sys.exit(main())
