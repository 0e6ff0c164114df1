"""Seed a Platform API with users and subscriptions, or remove them again.

python -m loadtests.seed --host http://127.0.0.1:8000 --users 50 --output accounts.json
python -m loadtests.seed --host http://127.0.0.1:8000 --cleanup accounts.json
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from loadtests.helpers.data import TestDataGenerator
from loadtests.helpers.seeder import DataSeeder, SeedError, read_accounts, write_accounts

MAX_USERS = 100_000


def _users(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= count <= MAX_USERS:
        raise argparse.ArgumentTypeError(f"must be within 1..{MAX_USERS}, got {count}")
    return count


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loadtests.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", required=True, help="base URL of the Platform API")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--users", type=_users, help="how many users (each with a subscription) to create")
    action.add_argument("--cleanup", type=Path, metavar="FILE", help="delete the accounts listed in FILE")
    parser.add_argument("--seed", type=int, default=None, help="Faker seed, for reproducible data")
    parser.add_argument(
        "--output", type=Path, default=Path("seeded_accounts.json"), help="where --users writes the accounts"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with DataSeeder(args.host, TestDataGenerator(args.seed)) as seeder:
        try:
            if args.cleanup is not None:
                deleted = seeder.cleanup(read_accounts(args.cleanup))
                print(f"deleted {deleted} account(s) listed in {args.cleanup}")
                return 0
            accounts = seeder.seed(args.users)
        except (SeedError, OSError, ValueError) as exc:
            print(f"seeding failed: {exc}", file=sys.stderr)
            return 1
    write_accounts(accounts, args.output)
    print(f"seeded {len(accounts)} account(s) with subscriptions on {args.host}; listed in {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
