"""Entry point: ``python -m bench [--quick] [--only FIGURES] [--rounds N]``."""

import sys

from bench.run import main

sys.exit(main())
