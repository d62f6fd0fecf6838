"""SQLite storage, the embedded default (`STORAGE_URL=sqlite:///data/kanalvakten.db`).

Why this shape:
- The stdlib `sqlite3` blocks, so each storage owns one connection on one dedicated thread
  (a single-worker executor); the event loop never waits on disk and the connection is only
  ever touched by the thread that made it.
- WAL mode lets readers work while a write commits; a busy timeout makes a second process (or a
  second `SqliteStorage` on the same file, e.g. `python bot.py announce` next to the server)
  wait for the lock instead of failing.
- A write runs as `BEGIN IMMEDIATE` … `COMMIT`: the e_tag comparison and the update happen under
  the write lock, so of two writers holding the same e_tag exactly one wins, and a batch is
  all-or-nothing.
- The file and its parent directory are created on first use, not in `__init__`, so building the
  app does no I/O. The file (and its -wal/-shm companions) is readable by its owner only (0600),
  the directory, when created here, 0700: it holds conversation references and user state.
- Deleted means gone (question texts and hand-offs are personal data, see `helpdesk.retention`):
  `secure_delete` overwrites deleted rows with zeros instead of leaving them in free space, and
  `compact()` checkpoints the WAL and truncates it, because until then the log still holds the
  pages as they were before the delete.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .base import KeyedStorage, StorageClosedError
from .encoding import check_e_tag, decode_item, encode_item, new_e_tag, set_e_tag

__all__ = ["SqliteStorage"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    e_tag      TEXT NOT NULL,
    updated_at REAL NOT NULL
)
"""
_READ_CHUNK = 500  # stays below SQLite's limit on bound parameters


def _prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string greater than every string starting with `prefix` (None: no bound).

    SQLite compares TEXT byte-wise in UTF-8, which orders like code points, so bumping the last
    code point gives a range the primary-key index can serve.
    """
    while prefix:
        bumped = ord(prefix[-1]) + 1
        if 0xD800 <= bumped <= 0xDFFF:  # surrogates cannot be encoded; skip past them
            bumped = 0xE000
        if bumped <= 0x10FFFF:
            return prefix[:-1] + chr(bumped)
        prefix = prefix[:-1]
    return None


def _companions(path: Path) -> list[Path]:
    """The write-ahead log and shared-memory files SQLite keeps next to the database."""
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def _create_private(path: Path) -> None:
    """Create the database file readable and writable by its owner only (0600), before SQLite opens
    it (SQLite would create it with the process's umask, usually world-readable); an existing
    file is narrowed to 0600 too. It holds conversation references and user state."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    _owner_only(path)


def _owner_only(path: Path) -> None:
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            os.chmod(path, 0o600)
            log.warning("%s was readable by others (mode %o): now 0600", path.name, mode)
    except FileNotFoundError:
        pass
    except PermissionError:  # another user's file: theirs to fix
        log.warning("%s is readable by others and not ours to change", path.name)


class SqliteStorage(KeyedStorage):
    """A `KeyedStorage` in one SQLite table `items(key, value JSON, e_tag, updated_at)`."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        """Database file; relative paths are relative to the working directory."""
        self._busy_timeout = busy_timeout
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"SqliteStorage({str(self.path)!r})"

    # -- the worker thread -------------------------------------------------------------------

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StorageClosedError(f"{self!r} is closed")
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-storage")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            self._conn = self._connect()
        return fn(self._conn)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create_private(self.path)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute(_SCHEMA)
        for companion in _companions(self.path):  # SQLite gives them the database's mode; make sure
            _owner_only(companion)
        log.info("opened SQLite storage %s", self.path)
        return conn

    # -- Storage -----------------------------------------------------------------------------

    async def read(self, keys: list[str]) -> dict[str, Any]:
        keys = list(dict.fromkeys(keys or ()))
        if not keys:
            return {}

        def read_rows(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
            rows: list[tuple[str, str, str]] = []
            for start in range(0, len(keys), _READ_CHUNK):
                chunk = keys[start : start + _READ_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows += conn.execute(f"SELECT key, value, e_tag FROM items WHERE key IN ({marks})", chunk).fetchall()
            return rows

        return {key: decode_item(value, e_tag) for key, value, e_tag in await self._run(read_rows)}

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise ValueError("changes are required when writing")
        if not changes:
            return
        # Encode on the loop thread: the caller's objects are not touched from the worker.
        encoded = [(key, *encode_item(key, value)) for key, value in changes.items()]

        def write_rows(conn: sqlite3.Connection) -> dict[str, str]:
            new_tags: dict[str, str] = {}
            now = time.time()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for key, text, e_tag in encoded:
                    row = conn.execute("SELECT e_tag FROM items WHERE key = ?", (key,)).fetchone()
                    check_e_tag(key, e_tag, row[0] if row else None)
                    tag = new_e_tag()
                    conn.execute(
                        "INSERT INTO items (key, value, e_tag, updated_at) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
                        "e_tag = excluded.e_tag, updated_at = excluded.updated_at",
                        (key, text, tag, now),
                    )
                    new_tags[key] = tag
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return new_tags

        new_tags = await self._run(write_rows)
        for key, tag in new_tags.items():
            set_e_tag(changes[key], tag)
        log.debug("wrote %d item(s)", len(new_tags))

    async def delete(self, keys: list[str]) -> None:
        keys = list(keys or ())
        if not keys:
            return

        def delete_rows(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("DELETE FROM items WHERE key = ?", [(k,) for k in keys])
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

        await self._run(delete_rows)

    # -- KeyedStorage ------------------------------------------------------------------------

    async def keys(self, prefix: str = "") -> list[str]:
        upper = _prefix_upper_bound(prefix)

        def select_keys(conn: sqlite3.Connection) -> list[str]:
            if upper is None:
                rows = conn.execute("SELECT key FROM items WHERE key >= ? ORDER BY key", (prefix,))
            else:
                rows = conn.execute("SELECT key FROM items WHERE key >= ? AND key < ? ORDER BY key", (prefix, upper))
            return [key for (key,) in rows if key.startswith(prefix)]

        return await self._run(select_keys)

    async def compact(self) -> None:
        """Copy the WAL into the database and truncate it (`PRAGMA wal_checkpoint(TRUNCATE)`).

        Another connection reading at this moment (e.g. `python bot.py announce` beside the
        server) can keep part of the log alive; that is logged, and the next purge tries again."""

        def checkpoint(conn: sqlite3.Connection) -> tuple[int, int, int]:
            busy, pages, done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return int(busy), int(pages), int(done)

        busy, log_pages, done = await self._run(checkpoint)
        if busy or done < log_pages:
            log.warning("SQLite checkpoint incomplete (%d of %d pages; another connection is busy)", done, log_pages)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is None:
            return

        def close_conn() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(executor, close_conn)
        executor.shutdown(wait=True)
        log.info("closed SQLite storage %s", self.path)
