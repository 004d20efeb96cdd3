"""The web app's .naiv4vibe / .naiv4vibebundle files (contract §8): read, turn into Vibes.

A file holds the original image and encodings per ``modelKey`` (the capability table's
``vibe_model_key``) and information extracted. Importing uses the file's encoding for the
generation model when it has one; otherwise the image, which is then encoded through the vibe
store (once). Every encoding in a file that also has its image is copied into the store, so a
later generation with another model the file covers costs nothing either. Writing files is
``vibe_export``'s part.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from ..contract.capabilities import MODELS, UnknownModelError, get_capability
from ..errors import InputError
from ..models.user import Vibe
from .store import DiskVibeStore, round_information

__all__ = [
    "BUNDLE_IDENTIFIER",
    "BUNDLE_SUFFIX",
    "DEFAULT_STRENGTH",
    "VIBE_FILE_SUFFIXES",
    "VIBE_IDENTIFIER",
    "VIBE_SUFFIX",
    "FileEncoding",
    "VibeFile",
    "key_for_model",
    "load_vibe_file",
    "model_for_key",
    "parse_vibe_files",
    "seed_store",
    "to_vibe",
]

VIBE_IDENTIFIER: Final = "novelai-vibe-transfer"
BUNDLE_IDENTIFIER: Final = "novelai-vibe-transfer-bundle"
VIBE_SUFFIX: Final = ".naiv4vibe"
BUNDLE_SUFFIX: Final = ".naiv4vibebundle"
VIBE_FILE_SUFFIXES: Final = (VIBE_SUFFIX, BUNDLE_SUFFIX)
DEFAULT_STRENGTH: Final = 0.6


def model_for_key(model_key: str) -> str | None:
    """The generation model id of a file's ``modelKey`` (None for keys this table lacks)."""
    for cap in MODELS.values():
        if cap.vibe_model_key == model_key and not cap.inpainting:
            return cap.id
    return None


def key_for_model(model: str) -> str | None:
    """The ``modelKey`` files use for ``model`` (None: unknown model or no key)."""
    try:
        return get_capability(model).vibe_model_key
    except UnknownModelError:
        return None


@dataclass(frozen=True)
class FileEncoding:
    """One encoding in a file: for which model key (and model id) and information extracted."""

    model_key: str
    model: str | None
    information_extracted: float
    data: bytes


@dataclass(frozen=True)
class VibeFile:
    """One vibe of a .naiv4vibe (or of a bundle)."""

    name: str
    id: str
    image: bytes | None
    encodings: tuple[FileEncoding, ...]
    import_model: str | None = None
    import_information: float | None = None
    import_strength: float | None = None
    created_at: int | None = None

    def encoding_for(self, model: str, information_extracted: float) -> FileEncoding | None:
        """The encoding made for ``model`` at ``information_extracted``, if the file has it."""
        wanted = round_information(information_extracted)
        for enc in self.encodings:
            if enc.model == model and round_information(enc.information_extracted) == wanted:
                return enc
        return None

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "id": self.id,
            "has_image": self.image is not None,
            "encodings": [
                {
                    "model_key": e.model_key,
                    "model": e.model,
                    "information_extracted": e.information_extracted,
                }
                for e in self.encodings
            ],
            "import_info": {
                "model": self.import_model,
                "information_extracted": self.import_information,
                "strength": self.import_strength,
            },
        }


# --- reading ---------------------------------------------------------------------------------


def _decode_b64(text: Any, where: str) -> bytes:
    if not isinstance(text, str) or not text:
        raise InputError(f"{where}: expected base64 text")
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{where}: not valid base64") from None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _import_model(info: dict[str, Any]) -> str | None:
    model = info.get("model")
    if not isinstance(model, str) or not model:
        return None
    # Files seen in the wild name the model by id; accept a modelKey too.
    return model if key_for_model(model) is not None else model_for_key(model)


def _encodings(raw: Any, where: str) -> tuple[FileEncoding, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise InputError(f"{where}.encodings: expected an object keyed by model")
    out = []
    for model_key, inner in raw.items():
        # Inner keys vary between web-app versions (a hash, "unknown", "default"): use values.
        for index, entry in enumerate((inner or {}).values() if isinstance(inner, dict) else []):
            here = f"{where}.encodings.{model_key}[{index}]"
            if not isinstance(entry, dict):
                raise InputError(f"{here}: expected an object")
            params = _object(entry.get("params"))
            info = _number(params.get("information_extracted"))
            data = _decode_b64(entry.get("encoding"), here)
            out.append(
                FileEncoding(
                    model_key, model_for_key(model_key), 1.0 if info is None else info, data
                )
            )
    return tuple(out)


def _default_id(doc: dict[str, Any]) -> str:
    """The web app's id when a file lacks one: sha256 of the image's base64 text (of the first
    encoding's for an encoding-only vibe)."""
    text = doc.get("image")
    if not isinstance(text, str) or not text:
        inner: Any = next(iter(_object(doc.get("encodings")).values()), None)
        first: Any = next(iter(_object(inner).values()), None)
        text = _object(first).get("encoding")
    return hashlib.sha256(text.encode()).hexdigest() if isinstance(text, str) and text else ""


def _vibe_from_json(doc: Any, where: str) -> VibeFile:
    if not isinstance(doc, dict) or doc.get("identifier") != VIBE_IDENTIFIER:
        raise InputError(f"{where}: not a NovelAI vibe (identifier {VIBE_IDENTIFIER!r} missing)")
    image = _decode_b64(doc["image"], f"{where}.image") if doc.get("image") else None
    info = _object(doc.get("importInfo"))
    created = doc.get("createdAt")
    vibe = VibeFile(
        name=str(doc.get("name") or ""),
        id=str(doc.get("id") or _default_id(doc)),
        image=image,
        encodings=_encodings(doc.get("encodings"), where),
        import_model=_import_model(info),
        import_information=_number(info.get("information_extracted")),
        import_strength=_number(info.get("strength")),
        created_at=int(created) if isinstance(created, int | float) else None,
    )
    if vibe.image is None and not vibe.encodings:
        raise InputError(f"{where}: the vibe has neither an image nor an encoding")
    return vibe


def parse_vibe_files(text: str | bytes, *, source: str = "vibe file") -> tuple[VibeFile, ...]:
    """The vibes of a .naiv4vibe (one) or .naiv4vibebundle (several) document."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{source}: not JSON; expected a .naiv4vibe or .naiv4vibebundle") from None
    if isinstance(doc, dict) and doc.get("identifier") == BUNDLE_IDENTIFIER:
        vibes = doc.get("vibes")
        if not isinstance(vibes, list) or not vibes:
            raise InputError(f"{source}: the bundle holds no vibes")
        return tuple(_vibe_from_json(v, f"{source}: vibes[{i}]") for i, v in enumerate(vibes))
    return (_vibe_from_json(doc, source),)


def load_vibe_file(path: str | Path) -> tuple[VibeFile, ...]:
    """Read and parse a vibe file; InputError (one line) for anything that is not one."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    vibes = parse_vibe_files(data, source=path.name)
    stem = path.stem
    many = len(vibes) > 1
    return tuple(
        v if v.name else replace(v, name=f"{stem}-{i + 1}" if many else stem)
        for i, v in enumerate(vibes)
    )


# --- importing -------------------------------------------------------------------------------


def seed_store(vibe: VibeFile, store: DiskVibeStore) -> int:
    """Copy the file's encodings (for models this table knows) into the store; returns how many.

    With the image, keyed by the picture (a later generation from the same picture finds it);
    an encoding-only vibe is kept under the file's id and name, listed and usable as is.
    """
    stored = 0
    for enc in vibe.encodings:
        if enc.model is None:
            continue
        info = enc.information_extracted
        if vibe.image is not None:
            if store.get(vibe.image, enc.model, info) is None:
                store.put(vibe.image, enc.model, info, enc.data, name=vibe.name or None)
                stored += 1
        elif vibe.id and store.get_without_image(vibe.id, enc.model, info) is None:
            store.put_without_image(vibe.id, enc.model, info, enc.data, name=vibe.name)
            stored += 1
    return stored


def to_vibe(
    vibe: VibeFile,
    *,
    model: str | None = None,
    information_extracted: float | None = None,
    strength: float | None = None,
) -> Vibe:
    """A ``Vibe`` for generating with ``model`` (None: the model the file was used with).

    information extracted and strength default to the file's importInfo. The file's encoding
    for that model and value is used when present; else the image (encoded when generating).
    """
    info = information_extracted
    if info is None:
        info = vibe.import_information
    if info is None:
        info = vibe.encodings[0].information_extracted if vibe.encodings else 1.0
    target = model or vibe.import_model or next((e.model for e in vibe.encodings if e.model), None)
    enc = vibe.encoding_for(target, info) if target else None
    if enc is None and vibe.image is None:
        enc = _fallback_encoding(vibe, model, information_extracted, info)
    chosen = DEFAULT_STRENGTH if strength is None else strength
    if strength is None and vibe.import_strength is not None:
        chosen = vibe.import_strength
    return Vibe(
        image=vibe.image,
        encoding=enc.data if enc else None,
        encoding_model=enc.model if enc else None,
        information_extracted=enc.information_extracted if enc else info,
        strength=chosen,
    )


def _fallback_encoding(
    vibe: VibeFile, model: str | None, information_extracted: float | None, info: float
) -> FileEncoding:
    """Without an image, any encoding that fits what the caller asked for (None = anything)."""
    for enc in vibe.encodings:
        if enc.model is None or (model is not None and enc.model != model):
            continue
        wanted = information_extracted
        if wanted is None or round_information(enc.information_extracted) == round_information(
            wanted
        ):
            return enc
    have = ", ".join(
        f"{e.model or e.model_key} at {e.information_extracted:g}" for e in vibe.encodings
    )
    raise InputError(
        f"vibe {vibe.name or vibe.id[:12]}: the file has no encoding for "
        f"{model or 'any known model'} at information extracted {info:g} (it has: "
        f"{have or 'none'}) and no image to encode again"
    )
