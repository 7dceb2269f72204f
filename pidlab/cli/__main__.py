import sys

from pidlab.cli import main

sys.exit(main())
