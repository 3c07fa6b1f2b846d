"""A backup of the service's state (the database and every object of the store) into a folder, checking one, and
restoring one into an empty database and an empty store.

Order matters for a backup taken while the service runs. The database is copied first, then the objects: an
object is stored before the row that names it commits (issuing, receipts, uploads), and objects are never
changed, only added (content-addressed) or deleted once no row names them, so every object the copied rows name
is in the store when it is listed afterwards. Objects stored after the copy are copied too, harmlessly.

A restore checks the whole backup (every file against the manifest's sha256) and that both targets are empty
before it writes anything, then puts the objects back, reading each one back from the store to check its hash,
and the database last, in one transaction. A restore that stopped half-way can be run again: a store that holds
only objects of this very backup counts as empty (same keys, same bytes), and the database is still empty.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

from bizportal.storage.backup_manifest import (
    MANIFEST_FILE,
    OBJECTS_DIR,
    BackupError,
    BackupObject,
    Manifest,
    file_sha256,
    read_manifest,
    write_manifest,
)
from bizportal.storage.database_copy import database_kind, dump_database, is_empty, restore_database
from bizportal.storage.migrate import known_revision
from bizportal.storage.object_store import ObjectStore, ObjectStoreError

__all__ = ["check_backup", "create_backup", "restore_backup"]

_LISTED_PROBLEMS = 10  # a report names this many; the count says the rest


def create_backup(folder: Path, database_url: str, store: ObjectStore, now: datetime) -> Manifest:
    """Copy the database at `database_url` and every object of `store` into `folder` (new or empty), with a
    manifest written last.

    Raises:
        BackupError: `folder` is not empty, the database or the store cannot be read, an object's bytes do not
            match its key (the store is damaged), `pg_dump` is missing or fails.
    """
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{folder} is not empty: a backup goes into a new folder")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # it holds citizens' personal data: only its owner may even list it (an empty one given too)
    database = dump_database(database_url, folder)
    copied: list[BackupObject] = []
    try:
        for stored in store.objects():
            target = folder / OBJECTS_DIR / stored.key
            digest, size = _download(store, stored.key, target)
            if digest != stored.sha256:
                raise BackupError(f"the store's object {stored.key} is damaged: its bytes hash to {digest}")
            copied.append(BackupObject(key=stored.key, size=size, sha256=digest, content_type=stored.content_type))
    except ObjectStoreError as err:
        raise BackupError(f"the object store cannot be read: {err}") from err
    manifest = Manifest(created_at=now, database=database, objects=copied)
    write_manifest(folder, manifest)
    return manifest


def check_backup(folder: Path) -> Manifest:
    """The manifest of the backup in `folder`, once every file it names has the size and sha256 it records, each
    object's bytes hash to its key, and no object file is there that it does not name.

    Raises:
        BackupError: no manifest, or the files do not match it (each mismatch named).
    """
    try:
        manifest = read_manifest(folder)
    except FileNotFoundError as err:
        raise BackupError(f"{folder} has no {MANIFEST_FILE}: not a backup, or one that did not finish") from err
    except ValueError as err:
        raise BackupError(str(err)) from err
    problems = _mismatch(folder, manifest.database.file, manifest.database.size, manifest.database.sha256)
    for item in manifest.objects:
        if item.key.rsplit("/", 1)[-1] != item.sha256:
            problems.append(f"{item.key}: the manifest's sha256 is not the key's")
        problems += _mismatch(folder, f"{OBJECTS_DIR}/{item.key}", item.size, item.sha256)
    named = {item.key for item in manifest.objects}
    objects = folder / OBJECTS_DIR
    if objects.is_dir():
        problems += [f"{path.relative_to(folder)}: not in the manifest" for path in sorted(objects.rglob("*"))
                     if path.is_file() and "/".join(path.relative_to(objects).parts) not in named]
    if problems:
        listed = "\n  ".join(problems[:_LISTED_PROBLEMS])
        more = f"\n  ... and {len(problems) - _LISTED_PROBLEMS} more" if len(problems) > _LISTED_PROBLEMS else ""
        raise BackupError(f"the backup in {folder} does not match its manifest ({len(problems)} problem(s)):\n"
                          f"  {listed}{more}")
    return manifest


def restore_backup(folder: Path, database_url: str, store: ObjectStore) -> Manifest:
    """Restore the backup in `folder` into the empty database at `database_url` and the empty `store`.

    Raises:
        BackupError: the backup does not match its manifest, a target is not empty or cannot be reached, an
            object read back from the store does not match, `pg_restore` is missing or fails.
    """
    manifest = check_backup(folder)
    revision = manifest.database.alembic_revision
    if revision is not None and not known_revision(revision):
        raise BackupError(f"the backup's database is at schema revision {revision}, which this version of bizportal "
                          "does not know: restore it with the version that made it (or a newer one)")
    if database_kind(database_url) != manifest.database.kind:
        raise BackupError(f"the backup holds a {manifest.database.kind} database; the target is "
                          f"{database_kind(database_url)} (nothing was changed)")
    if not is_empty(database_url):
        raise BackupError("the target database is not empty: restore into a new, empty database (create one, "
                          "point BIZPORTAL_DATABASE_URL at it, and run the restore again; nothing was changed)")
    named = {item.key for item in manifest.objects}
    try:
        present = {stored.key for stored in store.objects()}
        foreign = present - named
        if foreign:
            raise BackupError(f"the target object store is not empty: it holds {len(foreign)} object(s) this backup "
                              "does not (e.g. " + min(foreign) + "); restore into a new, empty bucket (nothing was "
                              "changed)")
        for item in manifest.objects:
            if item.key not in present:  # present: put there by an earlier run of this restore
                with (folder / OBJECTS_DIR / item.key).open("rb") as source:
                    stored = store.put_stream(source, item.content_type)
                if stored.key != item.key:
                    raise BackupError(f"{item.key} was stored under {stored.key}: the backup file changed during "
                                      "the restore")
            digest = hashlib.sha256()
            for chunk in store.iter_chunks(item.key):
                digest.update(chunk)
            if digest.hexdigest() != item.sha256:
                raise BackupError(f"the store gave back other bytes for {item.key} than were put")
    except ObjectStoreError as err:
        raise BackupError(f"the object store cannot be used: {err} (the database was not touched; run the restore "
                          "again once the store answers)") from err
    restore_database(database_url, folder, manifest.database)
    return manifest


def _download(store: ObjectStore, key: str, target: Path) -> tuple[str, int]:
    """Stream the object under `key` into `target` (written under a temporary name, then renamed): its sha256 and
    size."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    descriptor, partial = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    try:
        with os.fdopen(descriptor, "wb") as out:
            for chunk in store.iter_chunks(key):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def _mismatch(folder: Path, name: str, size: int, sha256: str) -> list[str]:
    """What is wrong with the file `name` of the backup in `folder` (nothing: an empty list)."""
    path = folder / name
    if not path.is_file():
        return [f"{name}: missing"]
    if path.stat().st_size != size:
        return [f"{name}: {path.stat().st_size} bytes, the manifest says {size}"]
    if file_sha256(path) != sha256:
        return [f"{name}: its sha256 is not the manifest's (changed since the backup)"]
    return []
