"""The on-disk vibe encoding store: pay 2 Anlas once per picture, model and information extracted.

Where (first match wins): the directory the caller passes (the nodes pass ComfyUI's user
directory, ``<user>/novelai-nodes/vibes``), else ``$NAI_CACHE_DIR/vibes``, else a per-user
cache folder: ``%LOCALAPPDATA%\\novelai-nodes\\cache\\vibes`` on Windows,
``~/Library/Caches/novelai-nodes/vibes`` on macOS, ``$XDG_CACHE_HOME/novelai-nodes/vibes``
(default ``~/.cache/novelai-nodes/vibes``) elsewhere.

Key: sha256 of the decoded RGBA pixels (so the same picture hits whether it arrives as a PNG
file with metadata, a re-saved PNG or a ComfyUI tensor) + the generation model id +
information extracted rounded to 4 decimals (float noise only; the widgets step by 0.01).

One file per entry, written to a temporary file and moved into place with ``os.replace``, so
readers (other threads, the CLI in another process) never see a partial entry. Each entry
records its own key fields and the sha256 of the encoding: anything that does not check out is
treated as missing and overwritten by the next ``put`` (the format: ``vibe_store_entry``).
Least recently used entries (file modification time, refreshed on every hit) are evicted above
``max_bytes`` or ``max_entries``. The store is a cache: I/O errors make it miss, never fail a
generation.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

from PIL import Image

from ..converter.images import ImageInput, to_pil
from .store_entry import (
    ENTRY_SUFFIX,
    StoredVibe,
    describe_entry,
    entry_key,
    pack,
    round_information,
    unpack,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ENTRIES",
    "DiskVibeStore",
    "StoredVibe",
    "default_store_dir",
    "image_digest",
    "open_store",
    "round_information",
]

_log = logging.getLogger(__name__)

ENV_CACHE_DIR: Final = "NAI_CACHE_DIR"
ENV_MAX_MB: Final = "NAI_VIBE_STORE_MAX_MB"
# Every variable default_store_dir and open_store read (Path.home() reads HOME / USERPROFILE):
# a caller remembering the opened store keys it on these.
LOCATION_ENV: Final = (
    ENV_CACHE_DIR,
    ENV_MAX_MB,
    "XDG_CACHE_HOME",
    "LOCALAPPDATA",
    "HOME",
    "USERPROFILE",
)
APP_DIR: Final = "novelai-nodes"
DEFAULT_MAX_BYTES: Final = 256 * 1024 * 1024  # ~5,000 real encodings of ~49 KB
DEFAULT_MAX_ENTRIES: Final = 10_000
_TMP_PREFIX: Final = ".tmp-"
_STALE_TMP_SECONDS: Final = 3600


def default_store_dir(
    user_dir: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """The store folder: ComfyUI's user dir if given, else $NAI_CACHE_DIR, else per-user cache."""
    env = os.environ if env is None else env
    if user_dir:
        return Path(user_dir) / APP_DIR / "vibes"
    if env.get(ENV_CACHE_DIR):
        return Path(env[ENV_CACHE_DIR]).expanduser() / "vibes"
    if os.name == "nt":
        base = Path(env.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / APP_DIR / "cache" / "vibes"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / APP_DIR / "vibes"
    base = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / APP_DIR / "vibes"


def open_store(
    user_dir: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> DiskVibeStore:
    """The default store; ``$NAI_VIBE_STORE_MAX_MB`` overrides the size bound."""
    env = os.environ if env is None else env
    max_bytes = DEFAULT_MAX_BYTES
    raw = env.get(ENV_MAX_MB, "").strip()
    if raw:
        try:
            max_bytes = max(1, int(float(raw) * 1024 * 1024))
        except ValueError:
            _log.warning("%s=%r is not a number; using %d MB", ENV_MAX_MB, raw, max_bytes >> 20)
    return DiskVibeStore(default_store_dir(user_dir, env), max_bytes=max_bytes)


def _pixel_digest(image: Image.Image) -> str:
    rgba = image.convert("RGBA")
    digest = hashlib.sha256(b"RGBA %d %d\n" % rgba.size)
    digest.update(rgba.tobytes())
    return digest.hexdigest()


def _unpictured(vibe_id: str) -> str:
    """The key field standing in for the picture's digest of an encoding-only vibe."""
    return "vibe-id:" + vibe_id


def image_digest(image: ImageInput) -> str:
    """sha256 hex of the picture's RGBA pixels: equal pixels, equal digest, whatever the file."""
    return _pixel_digest(to_pil(image))


class DiskVibeStore:
    """Vibe encodings on disk (see the module docstring); a ``vibe_encoding.VibeStore``."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        if max_bytes < 1 or max_entries < 1:
            raise ValueError("max_bytes and max_entries must be positive")
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._lock = threading.RLock()
        self._digests: OrderedDict[str, str] = OrderedDict()  # sha256(file bytes) -> pixels
        self._last_ns = 0

    def __repr__(self) -> str:
        return f"DiskVibeStore({str(self.root)!r}, max_bytes={self.max_bytes})"

    # --- keys -------------------------------------------------------------------------------

    def digest(self, image: ImageInput) -> str:
        """``image_digest``, remembered per file content so a hit does not decode the PNG."""
        if not isinstance(image, bytes | bytearray):
            return image_digest(image)
        raw = hashlib.sha256(image).hexdigest()
        with self._lock:
            known = self._digests.get(raw)
            if known is not None:
                self._digests.move_to_end(raw)
                return known
        digest = _pixel_digest(to_pil(bytes(image)))
        with self._lock:
            self._digests[raw] = digest
            while len(self._digests) > 256:
                self._digests.popitem(last=False)
        return digest

    def _path(self, digest: str, model: str, information_extracted: float) -> Path:
        return self.root / (entry_key(digest, model, information_extracted) + ENTRY_SUFFIX)

    # --- the VibeStore protocol -------------------------------------------------------------

    def get(self, image: ImageInput, model: str, information_extracted: float) -> bytes | None:
        """The stored encoding, or None (missing, corrupted or unreadable); a hit is 'used'."""
        return self._get(self.digest(image), model, information_extracted)

    def _get(self, digest: str, model: str, information_extracted: float) -> bytes | None:
        path = self._path(digest, model, information_extracted)
        data = self._read(path, digest, model, information_extracted)
        if data is not None:
            self._touch(path)
        return data

    def put(
        self,
        image: ImageInput,
        model: str,
        information_extracted: float,
        data: bytes,
        *,
        name: str | None = None,
    ) -> None:
        """Store (or replace) an encoding atomically, then evict least recently used entries."""
        self._put(self.digest(image), model, information_extracted, data, {"name": name})

    def put_without_image(
        self, vibe_id: str, model: str, information_extracted: float, data: bytes, *, name: str
    ) -> None:
        """Store an encoding whose picture is unknown (a web-app "encoding" vibe), by file id."""
        extra = {"name": name, "vibe_id": vibe_id}
        self._put(_unpictured(vibe_id), model, information_extracted, data, extra)

    def get_without_image(
        self, vibe_id: str, model: str, information_extracted: float
    ) -> bytes | None:
        """The encoding stored by ``put_without_image``, or None."""
        return self._get(_unpictured(vibe_id), model, information_extracted)

    def _put(
        self,
        digest: str,
        model: str,
        information_extracted: float,
        data: bytes,
        extra: Mapping[str, str | None],
    ) -> None:
        if not data:
            raise ValueError("an empty encoding cannot be stored")
        path = self._path(digest, model, information_extracted)
        header = {
            "model": model,
            "information_extracted": round_information(information_extracted),
            "image_sha256": digest,
            "sha256": hashlib.sha256(data).hexdigest(),
            "length": len(data),
            "created": time.time(),
            **{key: value for key, value in extra.items() if value},
        }
        with self._lock:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
                self._write_atomic(path, pack(header, bytes(data)))
                self._touch(path)
                self._evict(keep=path)
            except OSError as exc:  # a cache that cannot write must not fail a generation
                _log.warning("vibe store: could not write %s: %s", path.name, exc)

    # --- queries ----------------------------------------------------------------------------

    def contains(self, image: ImageInput, model: str, information_extracted: float) -> bool:
        """True when a valid encoding is stored (does not count as a use)."""
        digest = self.digest(image)
        path = self._path(digest, model, information_extracted)
        return self._read(path, digest, model, information_extracted) is not None

    def entries(self) -> list[StoredVibe]:
        """Readable entries, most recently used first."""
        found = [entry for entry in map(describe_entry, self._files()) if entry is not None]
        return sorted(found, key=lambda e: e.last_used, reverse=True)

    def for_image(self, image: ImageInput) -> list[tuple[StoredVibe, bytes]]:
        """Every valid entry (and its encoding) made from this picture, any model or value."""
        digest = self.digest(image)
        out = []
        for entry in self.entries():
            if entry.image_sha256 != digest:
                continue
            data = self._read(entry.path, digest, entry.model, entry.information_extracted)
            if data is not None:
                out.append((entry, data))
        return out

    def total_bytes(self) -> int:
        return sum(size for _, size, _ in self._stats())

    def clear(self) -> int:
        """Delete every entry (and stray temporary files); returns how many entries went."""
        removed = 0
        with self._lock:
            for path in self._files(include_tmp=True):
                try:
                    path.unlink()
                except OSError:
                    continue
                removed += path.suffix == ENTRY_SUFFIX
            self._digests.clear()
        return removed

    # --- plumbing ---------------------------------------------------------------------------

    def _read(
        self, path: Path, digest: str, model: str, information_extracted: float
    ) -> bytes | None:
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        unpacked = unpack(blob)
        if unpacked is None:
            _log.info("vibe store: ignoring corrupted entry %s", path.name)
            return None
        header, data = unpacked
        expected = (model, round_information(information_extracted), digest)
        if (
            header.get("model"),
            header.get("information_extracted"),
            header.get("image_sha256"),
        ) != expected:
            return None
        return data

    def _write_atomic(self, path: Path, blob: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=_TMP_PREFIX, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
                handle.flush()
                os.fsync(handle.fileno())
            self._replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @staticmethod
    def _replace(tmp: str, path: Path) -> None:
        # Windows refuses to replace a file another process has open; that clears in a moment.
        for attempt in range(5):
            try:
                Path(tmp).replace(path)
                return
            except PermissionError:
                if attempt == 4:
                    raise
                time.sleep(0.02 * (attempt + 1))

    def _touch(self, path: Path) -> None:
        # Strictly increasing within this process, so LRU order holds on coarse clocks too.
        with self._lock:
            now = max(time.time_ns(), self._last_ns + 1_000)
            self._last_ns = now
        with contextlib.suppress(OSError):
            os.utime(path, ns=(now, now))

    def _files(self, include_tmp: bool = False) -> Iterator[Path]:
        try:
            listing = list(os.scandir(self.root))
        except OSError:
            return
        for item in listing:
            name = item.name
            if name.endswith(ENTRY_SUFFIX) or (include_tmp and name.startswith(_TMP_PREFIX)):
                yield Path(item.path)

    def _stats(self) -> list[tuple[int, int, Path]]:
        """(mtime_ns, size, path) of every entry file, oldest first."""
        out = []
        for path in self._files():
            try:
                stat = path.stat()
            except OSError:
                continue
            out.append((stat.st_mtime_ns, stat.st_size, path))
        return sorted(out, key=lambda item: item[0])

    def _evict(self, keep: Path) -> None:
        stats = self._stats()
        total = sum(size for _, size, _ in stats)
        count = len(stats)
        for _, size, path in stats:
            if total <= self.max_bytes and count <= self.max_entries:
                break
            if path == keep:
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            total -= size
            count -= 1
        self._sweep_tmp()

    def _sweep_tmp(self) -> None:
        cutoff = time.time() - _STALE_TMP_SECONDS
        for path in self._files(include_tmp=True):
            if path.suffix == ENTRY_SUFFIX:
                continue
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                continue
