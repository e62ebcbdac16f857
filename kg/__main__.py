"""`python -m kg`: the `kg` command (kg.cli), for where the script's folder is not on PATH."""

from kg.cli import run

if __name__ == "__main__":
    run()
