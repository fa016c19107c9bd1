"""Checks the Lambda packages `make package` built: each function's zipped bootstrap
(`target/lambda/<function>/bootstrap.zip`, arm64, release) is at most 4 MB (4,000,000 bytes).

Prints each size, largest first, with its margin. Exit status 1 when a package is missing or too
large. Usage: python3 scripts/package_sizes.py
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
LIMIT = 4_000_000
FUNCTIONS = ["login", "account", "admin", "scim", "scim-sync", "workflows", "session-ends", "triggers", "sms-sender"]


def main():
    failed = False
    sizes = []
    for name in FUNCTIONS:
        package = ROOT / "target" / "lambda" / name / "bootstrap.zip"
        if not package.is_file():
            print(f"{name}: no package at {package.relative_to(ROOT)}")
            failed = True
            continue
        sizes.append((package.stat().st_size, name))
    for size, name in sorted(sizes, reverse=True):
        over = size > LIMIT
        failed |= over
        print(f"{name:<11} {size:>10,} bytes  {'OVER' if over else 'under'} 4 MB by {abs(LIMIT - size):,}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
