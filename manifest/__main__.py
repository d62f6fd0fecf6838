"""Command line: `python -m manifest build [--out DIR]` (what `make package` runs).

Exit 0 with the package's path on stdout, or exit 1 with every reason on stderr and no zip.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from config import ConfigurationError, load_settings
from manifest.builder import DIST_DIR, PackageError, build_package

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m manifest", description="Build the Teams app package.")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="write dist/kanalvakten.zip from the environment")
    build.add_argument("--out", type=Path, default=DIST_DIR, help="output folder (default: dist/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(f"Cannot build the Teams app package; nothing was written.\n{exc}", file=sys.stderr)
        return 1
    try:
        path = build_package(settings, args.out)
    except (PackageError, FileNotFoundError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
