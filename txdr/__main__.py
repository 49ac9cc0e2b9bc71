import sys

from txdr.cli import main

sys.exit(main())
