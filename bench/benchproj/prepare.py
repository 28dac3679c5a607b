"""Create the benchmark database: ``python -m benchproj.prepare`` (PERF_VARIANT=all)."""

from __future__ import annotations

import os


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchproj.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from benchproj.keys import USER_ID

    call_command("migrate", verbosity=0, interactive=False)
    user_model = get_user_model()
    user_model.objects.update_or_create(id=USER_ID, defaults={"username": "bench"})


if __name__ == "__main__":
    main()
