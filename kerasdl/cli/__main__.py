"""`python -m kerasdl.cli ...`: the `kerasdl` command."""

import sys

from kerasdl.cli.app import main

sys.exit(main())
