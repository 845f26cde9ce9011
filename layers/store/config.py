"""Which store to use, and connection strings that never carry a password to disk or logs.

Order: ``PLANATLAS_STORE`` (environment), else the URL saved by ``planatlas store use`` in the
user config dir (``store.toml``), else the embedded GeoPackage in the data directory.

Accepted forms: ``postgresql://user@host:port/db`` (``postgres://`` too), libpq key/value
strings (``service=team``, ``host=… dbname=…``), ``gpkg:/path/store.gpkg`` or a path ending in
``.gpkg``, and ``embedded`` for the default. Passwords are never saved or printed: libpq reads
them from ``~/.pgpass`` (or ``PGPASSFILE``) or a service file (``PGSERVICEFILE``);
:func:`add_pgpass` writes such an entry (mode 0600) when the user asks for it.
"""
from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from planatlas.layers.errors import InputError

__all__ = ["config_path", "configured", "save_choice", "sanitize", "has_password", "parse_target",
           "add_pgpass", "pgpass_path", "conninfo_parts", "default_gpkg_path"]


def config_path() -> Path:
    env = os.environ.get("PLANATLAS_CONFIG_DIR")
    if env:
        return Path(env) / "store.toml"
    from platformdirs import user_config_dir
    return Path(user_config_dir("planatlas", appauthor=False)) / "store.toml"


def default_gpkg_path() -> Path:
    from planatlas.layers.fsutil import user_data_dir
    from .gpkg import FILE_NAME
    return user_data_dir() / FILE_NAME


def _is_pg(url: str) -> bool:
    u = url.strip()
    return (u.startswith(("postgresql://", "postgres://"))
            or bool(re.match(r"^\s*[a-z_]+\s*=", u)))


def parse_target(url: str | None) -> tuple[str, str]:
    """``("gpkg", path)`` or ``("postgis", conninfo)`` for a store URL (None = embedded)."""
    if url is None or url.strip() in ("", "embedded", "default"):
        return "gpkg", str(default_gpkg_path())
    u = url.strip()
    if _is_pg(u):
        return "postgis", u
    if u.startswith("gpkg:"):
        u = u[5:]
    if u.lower().endswith(".gpkg"):
        return "gpkg", str(Path(u).expanduser())
    raise InputError(f"not a store URL: {sanitize(u)!r} (use postgresql://user@host/db, service=NAME, "
                     f"a .gpkg path or 'embedded')")


def conninfo_parts(url: str) -> dict[str, str]:
    """libpq parameters of a connection string (password included — never print this)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        return {k: str(v) for k, v in conninfo_to_dict(url).items()}
    except Exception as exc:  # noqa: BLE001 - psycopg.ProgrammingError: unparseable
        raise InputError(f"cannot read the connection string {sanitize(url)!r}: "
                         f"{str(exc).splitlines()[0]}") from None


def has_password(url: str | None) -> bool:
    if not url or not _is_pg(url):
        return False
    if url.strip().startswith(("postgresql://", "postgres://")):
        parts = urlsplit(url.strip())
        return parts.password is not None or any(k == "password" for k, _ in parse_qsl(parts.query))
    return bool(re.search(r"(^|\s)password\s*=", url))


def sanitize(url: str | None) -> str:
    """The URL without any password (safe to show, log and save)."""
    if url is None:
        return "embedded"
    u = url.strip()
    if u.startswith(("postgresql://", "postgres://")):
        try:
            parts = urlsplit(u)
            netloc = parts.netloc
            if "@" in netloc:
                cred, host = netloc.rsplit("@", 1)
                user = cred.split(":", 1)[0]
                netloc = f"{user}@{host}"
            query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                               if k != "password"])
            return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
        except ValueError:
            return "postgresql://(unreadable URL)"
    if _is_pg(u):
        return re.sub(r"(^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", r"\1password=***", u)
    return u


def configured() -> tuple[str | None, str]:
    """(URL or None for embedded, where it came from: ``PLANATLAS_STORE`` | config file | default)."""
    env = os.environ.get("PLANATLAS_STORE")
    if env and env.strip():
        return (None if env.strip() in ("embedded", "default") else env.strip()), "PLANATLAS_STORE"
    path = config_path()
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        url = data.get("url")
        if isinstance(url, str) and url.strip():
            return (None if url.strip() in ("embedded", "default") else url.strip()), str(path)
    except FileNotFoundError:
        pass
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        import warnings
        from .errors import StoreWarning
        warnings.warn(f"{path}: unreadable store setting ignored ({exc}); using the embedded store",
                      StoreWarning, stacklevel=2)
    return None, "default"


def save_choice(url: str | None) -> Path:
    """Save the store choice (password stripped) in the user config dir; returns the file."""
    from planatlas.layers.fsutil import atomic_write_text

    clean = "embedded" if url is None else sanitize(url)
    path = config_path()
    atomic_write_text(path, "# PlanAtlas store (planatlas store use); no password is ever kept here\n"
                            f"url = {json.dumps(clean, ensure_ascii=False)}\n")
    return path


def pgpass_path() -> Path:
    env = os.environ.get("PGPASSFILE")
    return Path(env) if env else Path.home() / ".pgpass"


def _pgpass_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


def add_pgpass(url: str, password: str) -> Path:
    """Add (or replace) the ``.pgpass`` line for ``url``'s host, port, database and user."""
    parts = conninfo_parts(url)
    fields = [parts.get("host") or "localhost", parts.get("port") or "5432",
              parts.get("dbname") or parts.get("user") or "*", parts.get("user") or "*"]
    key = ":".join(_pgpass_escape(f) for f in fields)
    path = pgpass_path()
    lines = []
    if path.exists():
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
                 if not ln.startswith(key + ":")]
    lines.append(key + ":" + _pgpass_escape(password))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path


def with_user(url: str, user: str) -> str:
    """``url`` connecting as ``user`` (used by tests and ``store init`` checks)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{quote(user)}@{host}", parts.path, parts.query, parts.fragment))
