"""One process that serves N requests to one page through the Flask test client.

Run under `valgrind --tool=callgrind`; the instructions of N requests minus those of the same
process serving none give the cost per request, independent of machine noise.
    python bench/serve_n.py --db bench/out/scale.sqlite3 --path /calls --user manager@... --n 20
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--user", default="")
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--count-queries", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("APP_CONFIG", "development")
    from config import DevelopmentConfig
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import User

    app = create_app(
        DevelopmentConfig,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(args.db).resolve()}",
        RATELIMIT_ENABLED=False,
        WTF_CSRF_ENABLED=False,
        TESTING=False,
    )

    @app.get("/__bare")
    def bare():  # the yardstick: a Flask route of the same app, with the same login
        return "ok"

    client = app.test_client()
    if args.user:
        with app.app_context():
            user = db.session.scalar(db.select(User).where(User.email == args.user))
            session_id = user.get_id()
        with client.session_transaction() as session:
            session["_user_id"] = session_id
            session["_fresh"] = True
    # Warm-up: imports, template compilation and caches are paid before the measure starts,
    # and paid equally by the N=0 process.
    for _ in range(args.warmup):
        response = client.get(args.path)
        assert response.status_code == 200, (args.path, response.status_code)
    statements = []
    if args.count_queries:
        from sqlalchemy import event

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.append(1))
    for _ in range(args.n):
        response = client.get(args.path)
        assert response.status_code == 200, (args.path, response.status_code)
    if args.count_queries:
        print(f"statements_per_request={len(statements) / max(args.n, 1):.2f}")


if __name__ == "__main__":
    main()
