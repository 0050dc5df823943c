"""The audit trail's signing keys: a keyring file kept outside the database.

Anyone who can write the database can recompute plain SHA-256 hashes, so every audit
entry also carries an HMAC-SHA256 made with a secret key the database never holds.
The keys live in one small JSON file (mode 0600), by default beside a SQLite store:

    {"fabnet_audit_keyring": 1,
     "keys": [{"id": "3f0c…", "key": "<base64, 32 bytes>", "created": "2026-12-01T…"}]}

The last key signs; older ones stay so that entries signed before a rotation still
verify. A key's id is derived from the key itself, so a wrong file shows at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fabnet.model.errors import FabnetError

FORMAT = 1
KEY_BYTES = 32


class AuditKeyError(FabnetError):
    """The audit key file is missing, unreadable, too open, or not a fabnet keyring."""


def key_id(key: bytes) -> str:
    """The public name of a key: 16 hex digits of a hash of it (reveals nothing of it)."""
    return hashlib.sha256(b"fabnet audit key id\x00" + key).hexdigest()[:16]


def mac(key: bytes, purpose: str, body: str) -> str:
    """HMAC-SHA256 of canonical JSON text `body`, bound to what it is for (`purpose`)."""
    return hmac.new(key, purpose.encode() + b"\x00" + body.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Keyring:
    """The audit keys of one store, oldest first; the last one signs."""

    path: Path
    keys: tuple[tuple[str, bytes], ...]

    @property
    def current(self) -> str:
        """The id of the key that signs new entries."""
        return self.keys[-1][0]

    def key(self, kid: str) -> bytes | None:
        """The key with id `kid` (None: not in this keyring)."""
        return next((k for i, k in self.keys if i == kid), None)

    def order(self, kid: str) -> int:
        """The position of key `kid` in the keyring (-1: not in it)."""
        return next((n for n, (i, _) in enumerate(self.keys) if i == kid), -1)

    def sign(self, purpose: str, body: str, kid: str | None = None) -> tuple[str, str]:
        """(key id, MAC) of `body` with key `kid` (default: the current key)."""
        kid = kid or self.current
        key = self.key(kid)
        if key is None:
            raise AuditKeyError(f"{self.path}: has no audit key {kid} (fix: use the key "
                                "file this store was signed with)")
        return kid, mac(key, purpose, body)

    def check(self, purpose: str, body: str, kid: str, given: str) -> bool:
        """True when `given` is the MAC of `body` under key `kid` (constant time)."""
        key = self.key(kid)
        return key is not None and hmac.compare_digest(mac(key, purpose, body), given)


def _document(keys: tuple[tuple[str, bytes], ...], created: dict[str, str]) -> str:
    return json.dumps({"fabnet_audit_keyring": FORMAT, "keys": [
        {"id": i, "key": base64.b64encode(k).decode(), "created": created[i]} for i, k in keys
    ]}, indent=1) + "\n"


def _write_private(path: Path, text: str, new: bool) -> None:
    """Write `text` readable by the owner only; a new file never replaces one, a rewrite
    goes through a temporary file and a rename, so a crash leaves the old keyring."""
    path.parent.mkdir(parents=True, exist_ok=True)
    target = path if new else path.with_name(path.name + f".tmp-{secrets.token_hex(4)}")
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise AuditKeyError(f"{path}: an audit key file is already there (fix: keep it, or "
                            "move it away if it belongs to another store)") from None
    except OSError as e:
        raise AuditKeyError(f"{path}: cannot create the audit key file: {e.strerror} "
                            "(fix: choose a folder you can write)") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if not new:
            os.replace(target, path)
    except BaseException:
        if not new:
            target.unlink(missing_ok=True)
        raise


def create_keyring(path: Path) -> Keyring:
    """A new keyring with one fresh key at `path` (which must not exist yet)."""
    key = secrets.token_bytes(KEY_BYTES)
    kid = key_id(key)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    _write_private(path, _document(((kid, key),), {kid: now}), new=True)
    return Keyring(path, ((kid, key),))


def load_keyring(path: Path) -> Keyring:
    """The keyring at `path`; refuses a file others can read, or one that is malformed."""
    doc, _ = _read(path)
    return doc


def rotate_keyring(path: Path) -> tuple[Keyring, str]:
    """Add a fresh key to the keyring at `path` and make it the one that signs;
    (new keyring, id of the key that signed before)."""
    ring, created = _read(path)
    key = secrets.token_bytes(KEY_BYTES)
    kid = key_id(key)
    created[kid] = datetime.now(UTC).isoformat(timespec="seconds")
    keys = (*ring.keys, (kid, key))
    _write_private(path, _document(keys, created), new=False)
    return Keyring(path, keys), ring.current


def _read(path: Path) -> tuple[Keyring, dict[str, str]]:
    from fabnet.store.audit import strict_loads

    try:
        st = path.stat()
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuditKeyError(f"{path}: no audit key file (fix: restore it from your backup, "
                            "or name it with FABNET_AUDIT_KEY_FILE; a new store gets one "
                            "from `fabnet db init`)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise AuditKeyError(f"{path}: cannot read the audit key file: {e} (fix: check the "
                            "file and its permissions)") from None
    if os.name == "posix" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AuditKeyError(f"{path}: the audit key file can be read by other users (mode "
                            f"{stat.S_IMODE(st.st_mode):04o}) (fix: chmod 600 {path})")
    try:
        doc: Any = strict_loads(text)
        if doc.get("fabnet_audit_keyring") != FORMAT or not doc["keys"]:
            raise ValueError("not a fabnet audit keyring")
        keys: list[tuple[str, bytes]] = []
        created: dict[str, str] = {}
        for n, k in enumerate(doc["keys"]):
            raw = base64.b64decode(k["key"], validate=True)
            if len(raw) != KEY_BYTES or key_id(raw) != k["id"]:
                raise ValueError(f"keys[{n}]: the key does not match its id {k['id']!r}")
            keys.append((k["id"], raw))
            created[k["id"]] = str(k.get("created", ""))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise AuditKeyError(f"{path}: not a fabnet audit key file ({e}) (fix: restore it "
                            "from your backup)") from None
    return Keyring(path, tuple(keys)), created
