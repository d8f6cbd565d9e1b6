import argparse
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Count lines in files.")
    parser.add_argument("paths", nargs="+", help="files to count")
    parser.add_argument("--verbose", "-v", action="store_true")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    total = 0
    for path in args.paths:
        with open(path, encoding="utf-8") as handle:
            count = sum(1 for _ in handle)
        if args.verbose:
            print(f"{path}: {count}")
        total += count
    print(
