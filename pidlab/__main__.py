"""``python -m pidlab``: the same as the ``pidlab`` command."""

import sys

from pidlab.cli import main

sys.exit(main())
