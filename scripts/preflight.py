"""Before anything starts: are PostgreSQL and Redis there? Create the database if it is missing.

Run by ./run with the project's virtualenv; exits non-zero with what to do when something is missing."""

import os
import sys
from urllib.parse import unquote, urlsplit

import psycopg
import redis
from psycopg import sql

HINT_PG = (
    "Start PostgreSQL, e.g.  sudo pg_ctlcluster $(ls /etc/postgresql) main start   (or: sudo systemctl start postgresql)\n"
    "Not installed? sudo apt-get install postgresql   Or point DATABASE_URL at your server."
)
HINT_REDIS = (
    "Start Redis, e.g.  redis-server --daemonize yes   (or: sudo systemctl start redis-server)\n"
    "Not installed? sudo apt-get install redis-server   Or point REDIS_URL at your server."
)


def fail(message: str, hint: str) -> None:
    print(f"\033[31m{message}\033[0m\n{hint}", file=sys.stderr)
    sys.exit(1)


def check_postgres(url: str) -> None:
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/")) or "textback"
    conninfo = {
        "host": parts.hostname or "",
        "port": parts.port or "",
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
    }
    conninfo = {key: value for key, value in conninfo.items() if value}
    try:
        with psycopg.connect(dbname="postgres", connect_timeout=3, autocommit=True, **conninfo) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"Created database {name}")
    except psycopg.OperationalError as exc:
        fail(f"PostgreSQL is not reachable at {url}: {str(exc).strip()}", HINT_PG)


def check_redis(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        fail(f"Redis is not reachable at {url}: {exc}", HINT_REDIS)


if __name__ == "__main__":
    check_postgres(os.environ.get("DATABASE_URL", "postgres:///textback"))
    check_redis(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
