import sys

from mockspike.cli import main

sys.exit(main())
