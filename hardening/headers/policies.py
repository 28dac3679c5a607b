"""Permissions-Policy: every powerful feature off unless the project turns it on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: Features a JSON API or a simple HTML site never needs; ``[]`` means "nobody".
DEFAULT_PERMISSIONS_POLICY: Final[Mapping[str, list[str]]] = {
    name: []
    for name in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "screen-wake-lock",
        "sync-xhr",
        "usb",
        "xr-spatial-tracking",
    )
}


def build_permissions_policy(policy: Mapping[str, list[str]]) -> str:
    """``{"camera": [], "geolocation": ["self"]}`` → ``camera=(), geolocation=(self)``.

    >>> build_permissions_policy({"camera": [], "geolocation": ["self", "https://maps.example"]})
    'camera=(), geolocation=(self "https://maps.example")'
    """
    parts = []
    for feature, allow in policy.items():
        items = []
        for origin in allow:
            origin = origin.strip("'")
            items.append(origin if origin in ("self", "*", "src") else f'"{origin}"')
        if items == ["*"]:
            parts.append(f"{feature}=*")
        else:
            parts.append(f"{feature}=({' '.join(items)})")
    return ", ".join(parts)
