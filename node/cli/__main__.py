import sys

from node.cli import main

if __name__ == "__main__":  # guarded: process-pool workers (forkserver) import the main module
    sys.exit(main())
