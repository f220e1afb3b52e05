"""``python -m pipeline.analyze``: the same command as the ``analyze`` console script."""

from pipeline.analyze.cli import main

if __name__ == "__main__":
    main()
