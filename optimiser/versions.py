"""What made a result: the optimiser's version, PuLP's, and the solver's (public calls only).

Recorded in every ``summary.json`` (``optimiser_version``, ``pulp_version``,
``solver_version``) and shown in the terminal report, so a figure can be traced
to the code and solver that produced it.
"""

from __future__ import annotations

import functools
import re
import subprocess

#: How long asking the CBC binary its version may take.
CBC_VERSION_TIMEOUT_SECONDS = 5.0
_CBC_VERSION = re.compile(rb"Version:\s*(\S+)")


def optimiser_version() -> str:
    from optimiser import __version__

    return __version__


def pulp_version() -> str | None:
    try:
        import pulp
    except ImportError:  # pragma: no cover - pulp is a core dependency
        return None
    return getattr(pulp, "__version__", None)


@functools.lru_cache(maxsize=None)
def _cbc_version(path: str) -> str | None:
    """The version the CBC binary at ``path`` prints on start (``Version: 2.10.3``)."""
    try:
        done = subprocess.run([path, "-quit"], capture_output=True, timeout=CBC_VERSION_TIMEOUT_SECONDS,
                              stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    found = _CBC_VERSION.search(done.stdout)
    return found.group(1).decode("ascii", "replace") if found else None


def _package_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _highs_version() -> str | None:
    try:
        import highspy
    except ImportError:
        return None
    parts = [getattr(highspy, f"HIGHS_VERSION_{part}", None) for part in ("MAJOR", "MINOR", "PATCH")]
    if all(p is not None for p in parts):
        return ".".join(str(p) for p in parts)
    return None


def solver_version(solver: str) -> str | None:
    """``"CBC 2.10.3"`` or ``"HiGHS 1.16.0"``; ``None`` when the solver does not say."""
    if solver == "cbc":
        from optimiser.solver import cbc_path

        number = _cbc_version(str(cbc_path()))
        if number is not None and not number[:1].isdigit():  # a development build: say whose
            package = _package_version("cbcbox")
            number = f"{number} (cbcbox {package})" if package else number
        return f"CBC {number}" if number else None
    if solver == "highs":
        number = _highs_version()
        return f"HiGHS {number}" if number else None
    return None


def versions(solver: str) -> dict[str, str | None]:
    """The three version fields of ``models.results.Summary``."""
    return {"optimiser_version": optimiser_version(), "pulp_version": pulp_version(),
            "solver_version": solver_version(solver)}
