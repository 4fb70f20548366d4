"""The bare Django view: one INSERT of one row, as direkte's ``POST /bench/insert``."""

import json

from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bare.models import BareRow


@csrf_exempt
@require_POST
def bare_insert(request):
    try:
        note = json.loads(request.body)["note"]
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"detail": "note is required"}, status=422)
    if not isinstance(note, str) or not 1 <= len(note) <= 100:
        return JsonResponse({"detail": "note: 1 to 100 characters"}, status=422)
    row = BareRow.objects.create(note=note, created_at=timezone.now())
    return JsonResponse(
        {"id": row.id, "note": row.note, "created_at": row.created_at.isoformat()}, status=201
    )
