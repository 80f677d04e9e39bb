"""The main pages against the bare route, in one process through the Flask test client.

python bench/pages.py --db bench/out/scale-100.sqlite3 --mode callgrind --out bench/out/x.json
    under valgrind --tool=callgrind --instr-atstart=no: every page and every user's bare
    route is warmed up, then measured as two segments (no request, then N requests) framed
    by callgrind client requests (bench/cgreq.py); bench/run.py reads the dumps.
python bench/pages.py --db ... --mode queries --out ...
    natively: the SQL statements of one request to each page (after the warm-up).
python bench/pages.py --db ... --mode wall --out ...
    natively: wall time per request (informative only: the machine is shared).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cgreq  # noqa: E402
from serve_n import BARE_PATH, get_ok, logged_in_client, make_app  # noqa: E402

USERS = {
    "anonymous": "",
    "applicant": "applicant@scale.example",
    "reviewer": "reviewer@scale.example",
    "manager": "manager@scale.example",
    "dg": "dg@scale.example",
}


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    path: str  # "{call}" is the id of the call holding the N proposals
    user: str
    main: bool  # one of the main pages (target: at most 5x the bare route)


PAGES = (
    Page("calls", "Public call list", "/calls", "anonymous", True),
    Page("dashboard", "Applicant dashboard", "/dashboard", "applicant", True),
    Page("proposals", "Applicant's proposals (My proposals)", "/proposals", "applicant", True),
    Page("review", "Reviewer queue", "/review/", "reviewer", True),
    Page("ranking", "Ranking of the call", "/manage/calls/{call}/ranking", "manager", True),
    Page("dg_queue", "Directorate-General queue", "/directorate/", "dg", True),
    Page("dg_call", "Directorate-General: one call's decisions", "/directorate/calls/{call}", "dg", False),
)
WARMUP = 3
#: Requests per measured segment for the pages that cost most (the others: --n-page).
HEAVY = {"ranking": 3, "dg_call": 5}


def bare_key(user: str) -> str:
    return f"bare-{user}"


def targets(keys: list[str] | None) -> list[tuple[str, str, str]]:
    """(key, path template, user) of the pages asked for and the bare route of their users."""
    pages = [p for p in PAGES if not keys or p.key in keys]
    users = sorted({p.user for p in pages}, key=list(USERS).index)
    return [(bare_key(u), BARE_PATH, u) for u in users] + [(p.key, p.path, p.user) for p in pages]


def scale_call_id(app) -> int:
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import Proposal

    with app.app_context():
        return db.session.scalar(
            select(Proposal.call_id).group_by(Proposal.call_id).order_by(func.count().desc()).limit(1)
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--mode", choices=("callgrind", "queries", "wall"), required=True)
    parser.add_argument("--only", default="", help="Comma-separated page keys (default: all).")
    parser.add_argument("--n-bare", type=int, default=60, help="Requests per bare-route segment.")
    parser.add_argument("--n-page", type=int, default=10, help="Requests per page segment.")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    app = make_app(args.db)
    call_id = scale_call_id(app)
    chosen = targets([k for k in args.only.split(",") if k])
    clients = {user: logged_in_client(app, USERS[user]) for user in {u for _k, _p, u in chosen}}
    paths = {key: path.format(call=call_id) for key, path, _u in chosen}
    for _ in range(WARMUP):
        for key, _path, user in chosen:
            get_ok(clients[user], paths[key])
    result = {
        "db": args.db,
        "call_id": call_id,
        "mode": args.mode,
        "pages": [asdict(p) for p in PAGES],
        "targets": {key: {"path": paths[key], "user": user} for key, _p, user in chosen},
    }

    if args.mode == "callgrind":
        if not cgreq.on_valgrind():
            sys.exit("run this mode under valgrind --tool=callgrind --instr-atstart=no")
        cgreq.start()
        for key, _path, user in chosen:
            n = args.n_bare if key.startswith("bare-") else HEAVY.get(key, args.n_page)
            client, path = clients[user], paths[key]
            for count in (0, n):
                gc.collect()
                cgreq.zero()
                for _ in range(count):
                    get_ok(client, path)
                cgreq.dump(f"{key} n={count}")
            result["targets"][key]["n"] = n
    elif args.mode == "queries":
        from sqlalchemy import event

        from webapp.extensions import db

        statements: list[tuple[str, int]] = []

        def listen(conn, cursor, statement, parameters, context, executemany):
            statements.append((" ".join(statement.split()), len(parameters or ())))

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", listen)
        for key, _path, user in chosen:
            statements.clear()
            response = get_ok(clients[user], paths[key])
            result["targets"][key].update(
                statements=len(statements), sql=list(statements), bytes=len(response.data)
            )
    else:
        for key, _path, user in chosen:
            times = []
            for _ in range(5 if key.startswith("bare-") else 3):
                started = time.perf_counter()
                get_ok(clients[user], paths[key])
                times.append(time.perf_counter() - started)
            result["targets"][key]["median_s"] = statistics.median(times)
    Path(args.out).write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
