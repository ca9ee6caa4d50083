#!python
# The installed `pycodex` executable (pyproject: wheel shared-scripts). pip's generated
# console scripts import `re` (~10 ms on a small machine) before anything else; this one
# goes straight to the entry point, which answers --version/--help from the stdlib alone.
import sys

from pycodex.cli.entry import main

if __name__ == "__main__":
    sys.exit(main())
