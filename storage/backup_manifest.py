"""A backup's manifest: what the backup folder holds, with the sha256 of every file, written last; and
`BackupError`, what a backup or a restore that cannot go on raises.

The manifest is the backup's commit point: a folder without one is a backup that did not finish, and a restore
refuses it. Every file it names is checked against its size and sha256 before a restore touches anything.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bizportal.storage.object_store import validate_content_key

__all__ = ["MANIFEST_FILE", "OBJECTS_DIR", "BackupError", "BackupObject", "DatabaseCopy", "Manifest", "file_sha256",
           "read_manifest", "write_manifest"]

MANIFEST_FILE = "manifest.json"
OBJECTS_DIR = "objects"  # objects/<content key>, so a key names its file
FORMAT: Literal[1] = 1
_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore cannot go on; the message says why and what to do (the CLI prints it). A restore
    raises it for a bad backup or a non-empty target before it writes anything (storage/backup.py)."""


class DatabaseCopy(BaseModel):
    """The database's copy: `pg_dump`'s custom format (PostgreSQL) or an SQLite file (the online backup API)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["postgresql", "sqlite"]
    file: Literal["database.pgdump", "database.sqlite"]  # a name in the folder, never a path out of it
    size: int
    sha256: str
    alembic_revision: str | None  # the schema's migration when the copy was made; None: never migrated


class BackupObject(BaseModel):
    """One object of the store, copied to `objects/<key>`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    size: int
    sha256: str
    content_type: str

    @field_validator("key")
    @classmethod
    def _a_content_key(cls, key: str) -> str:
        validate_content_key(key)  # objects/<key> stays inside the folder
        return key


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal[1] = FORMAT
    created_at: datetime
    database: DatabaseCopy
    objects: list[BackupObject]


def file_sha256(path: Path) -> str:
    """The lower-case hex sha256 of a file, read a chunk at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Write the manifest into `folder` under a temporary name, then rename it: it appears whole or not at all."""
    partial = folder / f".{MANIFEST_FILE}.partial"
    partial.write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    partial.replace(folder / MANIFEST_FILE)


def read_manifest(folder: Path) -> Manifest:
    """The manifest of the backup in `folder`.

    Raises:
        FileNotFoundError: the folder has no manifest (not a backup, or one that did not finish).
        ValueError: the manifest is not one this version writes.
    """
    text = (folder / MANIFEST_FILE).read_text(encoding="utf-8")
    try:
        return Manifest.model_validate_json(text)
    except ValidationError as err:
        raise ValueError(f"{folder / MANIFEST_FILE} is not a backup manifest: {err.errors()[0]['msg']}") from err
