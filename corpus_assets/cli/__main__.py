import sys

from corpus_assets.cli import main

sys.exit(main())
