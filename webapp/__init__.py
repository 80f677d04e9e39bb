"""The Flask application: create_app() wires extensions, blueprints, errors and the CLI."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_class=None, **overrides) -> Flask:
    from config import INSTANCE_DIR, config_from_env

    config_class = config_class or config_from_env()
    config_class.check()
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
        instance_path=str(INSTANCE_DIR),
        instance_relative_config=False,
    )
    app.config.from_object(config_class)
    app.config.update(overrides)
    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES", str(Path(__file__).parent / "translations")
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config.get("STORAGE_DIR"):
        Path(app.config["STORAGE_DIR"]).mkdir(parents=True, exist_ok=True)

    if app.config.get("PROXY_FIX_X_FOR"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1)

    from webapp import models  # noqa: F401  (registers the tables)
    from webapp.extensions import babel, bootstrap, cache, csrf, db, limiter, login_manager, mail, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    bootstrap.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)

    from webapp import i18n

    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)

    from webapp.database import configure_engine

    with app.app_context():
        configure_engine(db.engine)

    from webapp import auth_session

    auth_session.init_app(app, login_manager)

    from webapp import errors, security_headers, templating

    security_headers.init_app(app)
    errors.init_app(app)
    templating.init_app(app)

    from webapp.admin import bp as admin_bp
    from webapp.auth import bp as auth_bp
    from webapp.public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    from webapp import manage

    manage.init_app(app)  # /manage: the blueprint, the managers' dashboard card, demo calls
    from webapp import applicant

    applicant.init_app(app)  # proposals: the applicant's workspace (submission)

    from webapp import directorate  # /directorate, /decisions: decisions, letters, agreements, jobs

    directorate.init_app(app)
    from webapp import review  # /review: the reviewers' pages; assessment cards and reminders

    review.init_app(app)
    from webapp import cli, cli_scale

    cli.init_app(app)
    cli_scale.init_app(app)  # flask seed-scale: the benchmarks' data set (bench/)
    return app
