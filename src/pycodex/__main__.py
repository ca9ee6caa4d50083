import sys

from pycodex.cli.entry import main

if __name__ == "__main__":
    sys.exit(main())
