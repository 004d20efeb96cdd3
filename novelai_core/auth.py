"""Where the API token comes from (argument > environment > token file) and how it is shown masked.

The README cites these constants. The token itself is never logged, printed or put in an error:
only ``mask_token`` output ("pst-…abcd") and the *source* ("env NAI_ACCESS_TOKEN") are shown.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from .contract.constants import IMAGE_BASE_URL, TEXT_BASE_URL
from .errors import MissingTokenError

ENV_ACCESS_TOKEN: Final = "NAI_ACCESS_TOKEN"
ENV_API_KEY: Final = "NOVELAI_API_KEY"
ENV_TOKEN_FILE: Final = "NAI_TOKEN_FILE"
ENV_IMAGE_BASE_URL: Final = "NAI_IMAGE_BASE_URL"
ENV_TEXT_BASE_URL: Final = "NAI_TEXT_BASE_URL"
# Relative to the per-user config folder ($XDG_CONFIG_HOME, default ~/.config; %APPDATA% on
# Windows): ~/.config/novelai/token on Linux and macOS, %APPDATA%\novelai\token on Windows.
TOKEN_FILE_RELATIVE: Final = Path("novelai") / "token"
TOKEN_HELP: Final = (
    "Get a persistent API token in NovelAI (User Settings → Account → Get Persistent API Token) "
    f"and set {ENV_ACCESS_TOKEN}, or save it in the token file."
)


def config_dir(env: Mapping[str, str] | None = None, *, platform: str | None = None) -> Path:
    """The per-user config folder: %APPDATA% on Windows, else $XDG_CONFIG_HOME or ~/.config."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform.startswith("win") and env.get("APPDATA"):
        return Path(env["APPDATA"])
    if env.get("XDG_CONFIG_HOME"):
        return Path(env["XDG_CONFIG_HOME"])
    return Path.home() / ".config"


def default_token_file(
    env: Mapping[str, str] | None = None, *, platform: str | None = None
) -> Path:
    """$NAI_TOKEN_FILE if set, else <config dir>/novelai/token."""
    env = os.environ if env is None else env
    explicit = env.get(ENV_TOKEN_FILE, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    return config_dir(env, platform=platform) / TOKEN_FILE_RELATIVE


def resolve_base_url(base_url: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Image host: argument > $NAI_IMAGE_BASE_URL > https://image.novelai.net (no trailing /)."""
    return _host(base_url, ENV_IMAGE_BASE_URL, IMAGE_BASE_URL, env)


def resolve_text_base_url(base_url: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Text host: argument > $NAI_TEXT_BASE_URL > https://text.novelai.net (no trailing /)."""
    return _host(base_url, ENV_TEXT_BASE_URL, TEXT_BASE_URL, env)


def _host(given: str | None, variable: str, default: str, env: Mapping[str, str] | None) -> str:
    env = os.environ if env is None else env
    return (given or env.get(variable, "").strip() or default).rstrip("/")


def mask_token(token: str | None) -> str:
    """A recognisable but useless form of the token: "pst-…abcd" (prefix kept only for pst-)."""
    if not token:
        return "(none)"
    prefix = "pst-" if token.startswith("pst-") else ""
    if len(token) < len(prefix) + 12:
        return prefix + "…"
    return f"{prefix}…{token[-4:]}"


def clean_token(raw: str) -> str:
    """Strip what people paste around a token: whitespace, quotes and a "Bearer " prefix."""
    text = raw.strip().strip("\"'").strip()
    if text.lower().startswith("bearer "):
        text = text[len("bearer ") :].strip()
    return text


@dataclass(frozen=True)
class ResolvedToken:
    """The token (hidden from repr), where it came from, and every place that was searched."""

    value: str | None = field(repr=False)
    source: str
    searched: tuple[str, ...]

    @property
    def masked(self) -> str:
        return mask_token(self.value)

    def require(self) -> str:
        """The token, or MissingTokenError saying where we looked."""
        if self.value:
            return self.value
        looked = ", ".join(self.searched)
        raise MissingTokenError(f"NovelAI: no API token found (looked in {looked}). {TOKEN_HELP}")


def _read_token_file(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        token = clean_token(line)
        if token and not token.startswith("#"):
            return token
    return None


def resolve_token(token: str | None = None, env: Mapping[str, str] | None = None) -> ResolvedToken:
    """Find the token: argument > $NAI_ACCESS_TOKEN > $NOVELAI_API_KEY > token file.

    Never raises: a missing token is reported by ``ResolvedToken.require`` at the first request.
    """
    env = os.environ if env is None else env
    searched = ["argument", f"env {ENV_ACCESS_TOKEN}", f"env {ENV_API_KEY}"]
    if token and clean_token(token):
        return ResolvedToken(clean_token(token), "argument", tuple(searched[:1]))
    for index, name in enumerate((ENV_ACCESS_TOKEN, ENV_API_KEY), start=2):
        value = clean_token(env.get(name, ""))
        if value:
            return ResolvedToken(value, f"env {name}", tuple(searched[:index]))
    path = default_token_file(env)
    searched.append(f"file {path}")
    from_file = _read_token_file(path)
    if from_file:
        return ResolvedToken(from_file, f"file {path}", tuple(searched))
    return ResolvedToken(None, "none", tuple(searched))


def redact(text: str, secret: str | None) -> str:
    """Replace every occurrence of the secret in text by its masked form."""
    if not secret or secret not in text:
        return text
    return text.replace(secret, mask_token(secret))
