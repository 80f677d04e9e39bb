"""One process that serves N requests to one page through the Flask test client.

Run under `valgrind --tool=callgrind`; the instructions of N requests minus those of the same
process serving none give the cost per request, independent of machine noise.
    python bench/serve_n.py --db bench/out/scale.sqlite3 --path /calls --user manager@... --n 20

bench/pages.py measures every page in one process (callgrind client requests); bench/run.py uses
this script, two processes per figure, to check that both ways give the same count.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BARE_PATH = "/__bare"


def database_url(target: str) -> str:
    return target if "://" in target else f"sqlite:///{Path(target).resolve()}"


def make_app(db_target: str, **overrides):
    """The platform as `make run` builds it (development settings) on the given database, plus
    the yardstick: a bare Flask route of the same app, behind the same hooks and login."""
    os.environ.setdefault("APP_CONFIG", "development")
    from config import DevelopmentConfig
    from webapp import create_app

    app = create_app(
        DevelopmentConfig,
        SQLALCHEMY_DATABASE_URI=database_url(db_target),
        RATELIMIT_ENABLED=False,
        WTF_CSRF_ENABLED=False,
        TESTING=False,
        **overrides,
    )

    @app.get(BARE_PATH)
    def bare():
        return "ok"

    return app


def logged_in_client(app, email: str = ""):
    """A test client whose session holds ``email``'s login (anonymous for an empty e-mail)."""
    from webapp.extensions import db
    from webapp.models import User

    client = app.test_client()
    session_id = None
    if email:
        with app.app_context():
            user = db.session.scalar(db.select(User).where(User.email == email))
            assert user is not None, f"no account {email}: run flask seed-scale first"
            session_id = user.get_id()
    with client.session_transaction() as session:
        if session_id:
            session["_user_id"] = session_id
            session["_fresh"] = True
        # The layout's forms put a random CSRF secret in the session, and the cost of inflating the
        # (zlib-compressed) session cookie depends on its bytes: a fixed one keeps counts repeatable.
        session["csrf_token"] = "5e" * 20
    return client


def get_ok(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--user", default="")
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--count-queries", action="store_true")
    args = parser.parse_args()

    from webapp.extensions import db

    app = make_app(args.db)
    client = logged_in_client(app, args.user)
    # Warm-up: imports, template compilation and caches are paid before the measure starts,
    # and paid equally by the N=0 process.
    for _ in range(args.warmup):
        get_ok(client, args.path)
    # The full garbage collection the start-up left due (about 78 M instructions, as much as 1.6
    # requests to /calls) is paid here, by both processes, not inside the first measured requests.
    gc.collect()
    statements = []
    if args.count_queries:
        from sqlalchemy import event

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.append(1))
    for _ in range(args.n):
        get_ok(client, args.path)
    if args.count_queries:
        print(f"statements_per_request={len(statements) / max(args.n, 1):.2f}")


if __name__ == "__main__":
    main()
