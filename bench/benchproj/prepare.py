"""Create the benchmark database: ``python -m benchproj.prepare`` (PERF_VARIANT=all)."""

from __future__ import annotations

import os


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchproj.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from benchproj.keys import MIX_USERS, USER_ID

    call_command("migrate", verbosity=0, interactive=False)
    user_model = get_user_model()
    user_model.objects.update_or_create(id=USER_ID, defaults={"username": "bench"})
    # The "mix" scenario's users (bench/mix.py): ids 2..MIX_USERS + 1.
    users = [user_model(id=i, username=f"mix{i}") for i in range(2, MIX_USERS + 2)]
    user_model.objects.bulk_create(users, ignore_conflicts=True)


if __name__ == "__main__":
    main()
