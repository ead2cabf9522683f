"""Run the tooling as ``python -m layer COMMAND``."""

import sys

from layer.cli import main

sys.exit(main())
