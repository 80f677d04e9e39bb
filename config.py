"""Configuration classes, read from the environment.

`create_app()` picks one by `APP_CONFIG` (development, testing, production); every value that
differs between machines comes from an environment variable so app servers stay stateless.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))
DEFAULT_SECRETS = {"", "dev", "change-me", "changeme", "secret", "insecure", "default"}


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url(default_file: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name no driver; we always speak psycopg 3.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{INSTANCE_DIR / default_file}"


def _dev_secret_key() -> str:
    """A per-checkout random key kept in instance/, so development sessions survive restarts."""
    path = INSTANCE_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


class BaseConfig:
    APP_NAME = "Inserm International Cooperation Calls"
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = _database_url("coop.sqlite3")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False

    # Where e-mailed links point: never built from the request's Host header.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    TRUSTED_HOSTS = [h for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h] or None

    # Forms: long forms must not expire while someone writes.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_ENABLED = True
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 30 * 1024 * 1024))
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12

    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    LANGUAGES = ("fr", "en")

    BOOTSTRAP_SERVE_LOCAL = True

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "20 per 5 minutes")
    # Per account: after this many failures in a row the account waits LOCKOUT_SECONDS.
    MAX_FAILED_LOGINS = int(os.environ.get("MAX_FAILED_LOGINS", 5))
    LOCKOUT_SECONDS = int(os.environ.get("LOCKOUT_SECONDS", 15 * 60))

    CONFIRM_TOKEN_MAX_AGE = 3 * 24 * 3600
    RESET_TOKEN_MAX_AGE = 3600

    # Mail: without MAIL_SERVER messages stay in the outbox, visible to admins.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_TIMEOUT = 10
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Inserm international calls <no-reply@calls.inserm.example>"
    )
    OUTBOX_MAX_ATTEMPTS = 8

    STORAGE_DIR = os.environ.get("STORAGE_DIR", str(INSTANCE_DIR / "files"))
    ARGON2_PARAMS: dict = {}
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", 0))

    # The platform's signature (PAdES) on issued letters and agreements: a key and certificate
    # configured by the administrator. Without them, development and tests generate a
    # self-signed test key into instance/ on first use; production refuses to sign.
    SIGNING_KEY_PATH = os.environ.get("SIGNING_KEY_PATH", "")
    SIGNING_CERT_PATH = os.environ.get("SIGNING_CERT_PATH", "")
    SIGNING_KEY_PASSPHRASE = os.environ.get("SIGNING_KEY_PASSPHRASE", "")
    SIGNING_TEST_KEY_ALLOWED = True
    # Background jobs (Huey): SQLite storage in instance/ unless HUEY_REDIS_URL is set.
    HUEY_REDIS_URL = os.environ.get("HUEY_REDIS_URL", "")
    HUEY_IMMEDIATE = False
    # Rendered fragments of public pages, in each process's memory. A fragment's key holds the
    # version of the data it shows (read from the database on every request), so every process
    # and server sees a change at once: nothing needs to be shared or invalidated.
    CACHE_TYPE = "SimpleCache"
    CACHE_DEFAULT_TIMEOUT = 3600
    CACHE_THRESHOLD = 500

    @classmethod
    def check(cls) -> None:
        """Refuse settings that would be unsafe; overridden by production."""


class DevelopmentConfig(BaseConfig):
    SECRET_KEY = os.environ.get("SECRET_KEY") or _dev_secret_key()


class TestingConfig(BaseConfig):
    TESTING = True
    SECRET_KEY = "test-secret-key-that-is-long-enough-for-itsdangerous-0123456789"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    WTF_CSRF_ENABLED = False
    PUBLIC_BASE_URL = "http://calls.test"
    SERVER_NAME = None
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_SERVER = ""
    STORAGE_DIR = ""  # set per test by the fixtures
    HUEY_IMMEDIATE = True  # background jobs run in the request that queues them
    # Cheap hashes in tests; still Argon2id.
    ARGON2_PARAMS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


class ProductionConfig(BaseConfig):
    DEBUG = False
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    PREFERRED_URL_SCHEME = "https"
    SIGNING_TEST_KEY_ALLOWED = False  # documents are signed with the configured key only

    @classmethod
    def check(cls) -> None:
        problems = []
        if _bool("FLASK_DEBUG", False) or cls.DEBUG:
            problems.append("DEBUG must be off in production (unset FLASK_DEBUG).")
        key = cls.SECRET_KEY or ""
        if key.strip().lower() in DEFAULT_SECRETS or len(key) < 32:
            problems.append(
                "SECRET_KEY must be set to a random value of at least 32 characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        if not cls.SESSION_COOKIE_SECURE or not cls.REMEMBER_COOKIE_SECURE:
            problems.append("Cookies must be Secure in production (SESSION_COOKIE_SECURE=1).")
        if not os.environ.get("DATABASE_URL"):
            problems.append("DATABASE_URL must name the production PostgreSQL database.")
        if problems:
            raise RuntimeError("Refusing to start in production: " + " ".join(problems))


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[BaseConfig]:
    name = os.environ.get("APP_CONFIG", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"APP_CONFIG={name!r} is not one of {', '.join(CONFIGS)}.") from None
