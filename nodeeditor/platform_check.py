"""Can Qt open a window on this X11 desktop? One sentence when it cannot.

Qt 6's xcb platform plugin needs a handful of small X libraries (``libxcb-cursor0``,
``libxcb-icccm4``, ``libxcb-keysyms1``, ...) that minimal Linux systems lack; without
them Qt aborts with only "could not load the Qt platform plugin xcb". This module asks
``ldd`` which libraries the installed PySide6's plugin cannot find (``libxcb-cursor``
is loaded at run time, so it is tried directly) and names the Debian packages to
install. It also says so when there is no display at all. The app runs it before Qt
starts (so ``deepwire`` and ``make run`` say it in one sentence), and
``python -m nodeeditor.platform_check`` prints it and exits 1.
"""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
from pathlib import Path

RUNTIME_LIBRARIES = ("libxcb-cursor.so.0",)  # dlopen()ed by the plugin, invisible to ldd
IRREGULAR_PACKAGES = {  # Debian names that do not follow the library's soname
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libz.so.1": "zlib1g",
}
MISSING = re.compile(r"^\s*(\S+) => not found", re.MULTILINE)


def uses_xcb(environ=os.environ) -> bool:
    """True when Qt will use its X11 (xcb) plugin: Linux, no other platform asked for,
    not a Wayland session."""
    if not sys.platform.startswith("linux"):
        return False
    platform = environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":")[0] == "xcb"
    return not environ.get("WAYLAND_DISPLAY")


def xcb_plugin() -> Path | None:
    """The installed PySide6's xcb platform plugin, if there is one."""
    try:
        import PySide6
    except ImportError:
        return None
    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def missing_libraries(plugin: Path) -> list[str]:
    """The shared libraries ``plugin`` needs that this system cannot load."""
    try:
        found = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, check=False)
        missing = MISSING.findall(found.stdout)
    except OSError:  # no ldd: only the run-time library can be checked
        missing = []
    for name in RUNTIME_LIBRARIES:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return sorted(set(missing))


def debian_package(library: str) -> str:
    """``libxcb-icccm.so.4`` -> ``libxcb-icccm4``: Debian's name for a shared library."""
    if library in IRREGULAR_PACKAGES:
        return IRREGULAR_PACKAGES[library]
    name, _, version = library.partition(".so.")
    name = name.lower()
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def problem(environ=os.environ) -> str | None:
    """The sentence to show when Qt cannot open an X11 window here, else None."""
    if not uses_xcb(environ):
        return None
    if not environ.get("DISPLAY"):
        return (
            "deepwire: there is no display to open the window on (DISPLAY is not set); "
            "start it in a desktop session, or use `deepwire --screenshot PNG FILE` or "
            "the commands of `deepwire --help`."
        )
    plugin = xcb_plugin()
    if plugin is None:
        return None
    missing = missing_libraries(plugin)
    if not missing:
        return None
    packages = " ".join(debian_package(name) for name in missing)
    names = " and ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
    return (
        f"deepwire: Qt cannot open a window because {names} "
        f"{'is' if len(missing) == 1 else 'are'} missing; install "
        f"{'it' if len(missing) == 1 else 'them'} with "
        f"`sudo apt-get install {packages}` (Debian, Ubuntu)."
    )


def main() -> int:
    """Print the problem, if any; exit 1 when Qt could not open a window."""
    text = problem()
    if text:
        print(text, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
