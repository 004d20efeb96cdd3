"""The CLI's one exit-code policy: what each failure prints (one line) and which code it exits with.

0 ok; 1 NovelAI, network or a missing optional dependency; 2 bad input (argparse's own code for
usage errors); 130 interrupted. Never a traceback, never the token (NovelAI error texts carry none).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from pydantic import ValidationError

from ..errors import NovelAIError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130

Handler = Callable[[argparse.Namespace], int]


def one_line(exc: BaseException) -> str:
    """An exception as one readable line (pydantic errors: field and message)."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return " ".join(str(exc).split())


def run_handler(handler: Handler, args: argparse.Namespace) -> int:
    """Run a command's handler under the policy above."""
    try:
        return handler(args)
    except BrokenPipeError:  # output piped into e.g. `head`: not an error of ours
        sys.stderr.close()
        return EXIT_OK
    except (ValidationError, OSError, ValueError) as exc:  # InputError is a ValueError
        return _fail(f"error: {one_line(exc)}", EXIT_INPUT)
    except NovelAIError as exc:
        return _fail(f"error: {one_line(exc)}", EXIT_FAILURE)
    except ImportError as exc:  # an optional dependency (numpy, msgpack...) is missing
        return _fail(f"error: {one_line(exc)}", EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail("cancelled", EXIT_INTERRUPTED)


def _fail(line: str, code: int) -> int:
    sys.stderr.write(line + "\n")
    return code
