"""python3 bench/driver [options] — see cli.py, or run it with --help."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from driver.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
