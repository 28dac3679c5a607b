"""A small staff-only admin page to see and lift bans (``admin/ratelimit/bans/``)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import engines

from hardening import formfields
from hardening.ratelimit.bans import active_bans, lift_ban

PAGE = """{% extends "admin/base_site.html" %}
{% block content %}
<form method="post">{% csrf_token %}
<p><input name="identity" placeholder="ip:203.0.113.7 or u:42" maxlength="100">
<button>Lift ban</button></p>
{% if listing %}<table><tr><th>Identity</th><th>Left</th><th></th></tr>
{% for identity, ttl in bans %}<tr><td>{{ identity }}</td><td>{{ ttl }}s</td>
<td><button name="identity" value="{{ identity }}">Lift</button></td></tr>
{% empty %}<tr><td colspan="3">No active bans.</td></tr>{% endfor %}</table>
{% else %}<p>Listing needs a Redis rate-limit cache; lifting works everywhere.</p>{% endif %}
</form>
{% endblock %}"""


@staff_member_required
def bans_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if not request.user.has_perm("auth.change_user"):
            return HttpResponse(status=403)
        refused = formfields.refusal(request, {"identity": 100})
        if refused is not None:  # NUL or a lone surrogate: never a cache key
            messages.error(request, refused.message)
            return _render(request, status=400)
        identity = request.POST.get("identity", "").strip()
        if identity.startswith(("ip:", "u:", "key:")):
            active = lift_ban(identity, request=request, by="admin")
            messages.info(request, f"{identity}: {'lifted' if active else 'no active ban'}")
        else:
            messages.error(request, "Give an identity like ip:203.0.113.7 or u:42.")
        return HttpResponseRedirect(request.path)
    return _render(request)


def _render(request: HttpRequest, status: int = 200) -> HttpResponse:
    bans = active_bans()
    context = {
        **admin.site.each_context(request),
        "title": "Rate-limit bans",
        "bans": bans or [],
        "listing": bans is not None,
    }
    page = engines["django"].from_string(PAGE).render(context, request)
    return HttpResponse(page, status=status)
