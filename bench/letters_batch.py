"""A batch of decision letters on the job queue (Huey): two workers against one, in wall time.

    python bench/letters_batch.py --template bench/out/letters-template.sqlite3 --letters 100 \
        --rounds 3 --out bench/out/letters-batch.json

Each run starts from a fresh copy of the template database (released decisions, no letter yet):
the consumer (`flask jobs-worker --workers W`, process workers) is started and left to settle,
then the letters of the call are queued the way the Directorate-General's page queues them
(`webapp.jobs.create_letter_jobs`: one job per shard, queued at commit) and the clock runs until
every job is done. Runs alternate 1, 2, 1, 2, ... workers; the figure is the ratio of the medians
(with each round's ratio). Queue: Redis (`HUEY_REDIS_URL`, a database index of its own, emptied
of this queue's keys before each run) if reachable, else Huey's SQLite storage in the private
instance directory.
"""

# ruff: noqa: S603 - the commands run here are our own tools with our own arguments

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

FLASK = str(ROOT / ".venv" / "bin" / "flask")


def _flush_queue() -> None:
    from webapp import jobs

    jobs.huey.flush()


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _pending(db_path: Path) -> int:
    with sqlite3.connect(db_path, timeout=30) as conn:
        return conn.execute(
            "SELECT COUNT(*) FROM background_job WHERE status NOT IN ('done', 'failed')"
        ).fetchone()[0]


def _summary(db_path: Path) -> dict:
    with sqlite3.connect(db_path, timeout=30) as conn:
        statuses = dict(
            conn.execute("SELECT status, COUNT(*) FROM background_job GROUP BY status").fetchall()
        )
        letters = conn.execute(
            "SELECT COUNT(*) FROM issued_document WHERE kind = 'decision_letter'"
        ).fetchone()[0]
        errors = [e for (e,) in conn.execute("SELECT error FROM background_job WHERE error != ''")]
    return {"jobs": statuses, "letters": letters, "errors": errors}


def run_once(workers: int, template: Path, work: Path, letters: int, env: dict) -> dict:
    from serve_n import make_app
    from sqlalchemy import select

    db_path = work / "batch.sqlite3"
    storage = work / "files-batch"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    shutil.copyfile(template, db_path)
    shutil.rmtree(storage, ignore_errors=True)
    storage.mkdir(parents=True)
    _flush_queue()
    run_env = {**env, "DATABASE_URL": f"sqlite:///{db_path}", "STORAGE_DIR": str(storage)}
    log = (work / f"worker-{workers}.log").open("w")
    consumer = subprocess.Popen(
        [FLASK, "jobs-worker", "--workers", str(workers)],
        env=run_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=ROOT,
    )
    try:
        _wait_for(
            lambda: "Background jobs:" in (work / f"worker-{workers}.log").read_text(), 60, "the consumer"
        )
        time.sleep(2.0)  # its worker processes are forked and waiting
        app = make_app(str(db_path), STORAGE_DIR=str(storage))
        from webapp import jobs
        from webapp.extensions import db
        from webapp.models import Proposal
        from webapp.models.calls import Call
        from workflows.proposal_states import ProposalState as S

        with app.app_context():
            ids = list(
                db.session.scalars(
                    select(Proposal.id)
                    .where(Proposal.state.in_([S.AWARDED, S.REJECTED]))
                    .order_by(Proposal.id)
                )
            )[:letters]
            assert len(ids) == letters, f"the template holds {len(ids)} released decisions, not {letters}"
            call = db.session.get(Call, db.session.get(Proposal, ids[0]).call_id)
            jobs.create_letter_jobs(call, ids)
            started = time.perf_counter()
            db.session.commit()  # queues the jobs (after commit)
            db.session.remove()
            db.engine.dispose()
        _wait_for(lambda: _pending(db_path) == 0, 1800, "the letters")
        elapsed = time.perf_counter() - started
    finally:
        if consumer.poll() is None:
            os.killpg(consumer.pid, signal.SIGINT)
            try:
                consumer.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(consumer.pid, signal.SIGKILL)
                consumer.wait()
        log.close()
    result = {"workers": workers, "seconds": elapsed, **_summary(db_path)}
    if result["letters"] != letters or result["errors"]:
        raise RuntimeError(f"the batch did not complete: {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--template", required=True)
    parser.add_argument("--letters", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    work = Path(args.out).resolve().parent / "batch"
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("APP_CONFIG", "development")
    env["FLASK_APP"] = "webapp:create_app"
    runs = []
    for round_ in range(args.rounds):
        for workers in (1, 2):
            result = run_once(workers, Path(args.template).resolve(), work, args.letters, env)
            result["round"] = round_ + 1
            result["load"] = os.getloadavg()
            runs.append(result)
            print(f"  round {round_ + 1}: {workers} worker(s) {result['seconds']:.1f} s", flush=True)
    one = [r["seconds"] for r in runs if r["workers"] == 1]
    two = [r["seconds"] for r in runs if r["workers"] == 2]
    per_round = [a / b for a, b in zip(one, two, strict=True)]
    out = {
        "queue": "redis" if os.environ.get("HUEY_REDIS_URL") else "sqlite",
        "letters": args.letters,
        "runs": runs,
        "median_one": statistics.median(one),
        "median_two": statistics.median(two),
        "speedup": statistics.median(one) / statistics.median(two),
        "per_round": per_round,
    }
    Path(args.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
